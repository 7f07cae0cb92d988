"""The whole application offscreen: open, map, audit, export, failures, screenshots."""


import openpyxl
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from conftest import HANG_MS, ROOT, SAMPLE, open_and_wait, wait_idle, wait_settled  # noqa: E402

SCREENS = ROOT / "artifacts" / "screens"


@pytest.fixture
def window(make_window):
    return make_window()


def open_sample(window, qtbot, path=SAMPLE):
    open_and_wait(qtbot, window, path)


def test_open_sample_validates_and_enables_pages(window, qtbot):
    open_sample(window, qtbot)
    d = window.state.data
    assert d.n == 6000 and d.mapping.score == "score" and d.mapping.label == "outcome"
    assert "race" in d.mapping.groups
    for i in range(window.nav.count()):
        assert window.nav.item(i).flags() & window.nav.item(i).flags().ItemIsEnabled
    assert "6,000 rows used" in window.rows_label.text()


def test_every_page_screenshot(window, qtbot):
    open_sample(window, qtbot)
    SCREENS.mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(window.pages):
        window.nav.setCurrentRow(i)
        wait_settled(qtbot, window)  # a page computes when first shown: wait for it
        img = window.grab()
        assert img.width() >= 1200
        assert img.save(str(SCREENS / f"app_{i + 1}_{page.key}.png"))


def test_export_decision_tables_from_window(window, qtbot, tmp_path):
    open_sample(window, qtbot)
    out = tmp_path / "tables.xlsx"
    window.export_workbook(str(out))
    wait_idle(qtbot, window)
    assert out.exists()
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "About this workbook"
    assert "Rates by group" in wb.sheetnames and "Fairness" in wb.sheetnames
    about = {r[0]: r[1] for r in wb["About this workbook"].iter_rows(values_only=True) if r[0]}
    assert about["File"] == SAMPLE.name and about["Rows used"] == 6000
    rows = tmp_path / "rows.csv"
    window.export_rows(str(rows))
    wait_idle(qtbot, window)
    assert rows.exists()
    assert len(rows.read_text(encoding="utf-8-sig").splitlines()) == 6001
    assert not window.errors


def test_failing_job_leaves_window_usable(window, qtbot):
    def boom(*, job):
        raise RuntimeError("deliberate failure")

    window.worker.start(boom, title="Failing job")
    wait_idle(qtbot, window)
    message, details = window.errors[0]
    assert "still usable" in message and "deliberate failure" in details
    assert window.progress.isHidden()
    open_sample(window, qtbot)  # and the window still works
    assert window.state.data is not None


def test_invalid_data_lists_problems_on_data_page(window, qtbot, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("score,outcome,race\n0.1,yes,a\n0.2,no,b\n0.3,maybe,a\n")
    window.open_path(str(bad))
    wait_idle(qtbot, window)  # reading, then validating
    assert window.state.data is None
    # three outcome values: not proposed as the outcome, so the analyst is asked to map one
    assert any(p.code == "label_unmapped" for p in window.state.problems)
    window.state.mapping.label = "outcome"
    window.validate()
    wait_idle(qtbot, window)
    assert any(p.code == "label_values" for p in window.state.problems)
    assert window.state.data is None
    assert window.current_page().key == "data"


def test_bad_file_gives_message_not_traceback(window, qtbot, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    window.open_path(str(empty))
    wait_idle(qtbot, window)
    assert "empty" in window.errors[0][0].lower() and window.errors[0][1] == ""


def test_project_save_and_reopen(window, make_window, qtbot, tmp_path):
    open_sample(window, qtbot)
    window.state.mapping.groups = ["race", "sex"]
    with qtbot.waitSignal(window.dataReady, timeout=HANG_MS):  # only the newest validation announces its data
        window.validate()
        window.validate()  # a second request: the first result must not win
    wait_idle(qtbot, window)
    assert window.state.data.n_groups == 8
    window.state.set_thresholds([0.3, 0.6])
    path = tmp_path / "p.fairdesk"
    window.state.project_path = str(path)
    assert window.save_project() == str(path)
    w2 = make_window(settings_name="s2.ini", show=False)
    open_and_wait(qtbot, w2, path)
    assert w2.errors == []
    assert w2.state.data.group_names == window.state.data.group_names
    assert w2.state.thresholds.tolist() == window.state.thresholds.tolist()


def test_drop_a_file_opens_it(window, qtbot):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(SAMPLE))])
    event = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.dataReady, timeout=HANG_MS):
        window.dropEvent(event)
    wait_idle(qtbot, window)
    assert window.state.table.source.path.endswith("sample_scores.csv")


def test_failed_job_traceback_goes_to_log_without_data(window, qtbot, tmp_path, monkeypatch):
    import logging

    from fairdesk.gui import app as gui_app

    monkeypatch.setattr(gui_app, "data_folder", lambda: tmp_path)
    log_path = gui_app.setup_logging()
    try:
        def boom(*, job):
            raise ValueError("could not convert 'Jane Doe, 1984-02-03' to float")

        window.worker.start(boom)
        wait_idle(qtbot, window)
        logging.getLogger("fairdesk.test").error("opened %s: %d rows", "secret-name.csv", 12)
        for h in logging.getLogger("fairdesk").handlers:
            h.flush()
        text = log_path.read_text()
        assert "ValueError" in text and "Traceback" in text and "in boom" in text
        assert "Jane Doe" not in text and "secret-name" not in text and "12 rows" in text
        assert "Jane Doe" in window.errors[0][1]  # the dialog's details still show it
    finally:
        root = logging.getLogger("fairdesk")
        for h in list(root.handlers):
            if isinstance(h, logging.FileHandler):
                root.removeHandler(h)
                h.close()


def test_recent_files_persist(window, qtbot, tmp_path):
    open_sample(window, qtbot)
    from fairdesk.gui.main_window import MainWindow

    w2 = MainWindow(settings=window.qsettings)
    qtbot.addWidget(w2)
    assert w2._recent()[0] == str(SAMPLE.resolve())
    assert w2.recent_menu.actions()[0].text().endswith("sample_scores.csv")


def test_autosave_and_recovery_after_a_crash(window, make_window, qtbot, tmp_path, monkeypatch):
    from fairdesk.gui import app as gui_app
    from fairdesk.gui import main_window as mw

    target = tmp_path / "autosave.fairdesk"
    monkeypatch.setattr(mw, "autosave_path", lambda: target)
    monkeypatch.setattr(gui_app, "autosave_path", lambda: target)
    open_sample(window, qtbot)
    window.state.set_thresholds([0.42])
    window.autosave()
    assert target.exists()
    # a "crash": a new window finds the autosave and, when the analyst agrees, reopens it
    w2 = make_window(settings_name="s3.ini", show=False)
    with qtbot.waitSignal(w2.dataReady, timeout=HANG_MS):
        assert gui_app.offer_recovery(w2, ask=lambda: True)
    wait_idle(qtbot, w2)
    assert w2.errors == []
    assert w2.state.thresholds.tolist() == [0.42] and w2.state.project_path is None
    # declining removes it; a clean exit removes it too
    assert not gui_app.offer_recovery(w2, ask=lambda: False) and not target.exists()
    window.autosave()
    window.close()
    assert not target.exists()
