"""The main window: navigation on the left, the page in the centre, a status bar, menus."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QFrame, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QMainWindow, QMessageBox, QProgressBar, QPushButton,
                               QScrollArea, QSplitter, QStackedWidget, QWidget)

from .palette import font_css
from .. import __version__
from ..errors import FairDeskError
from ..io.outputs import confirm_replace
from ..io.loading import AmbiguousDecimalError, sheet_choices
from ..project import Project, check_input, load_project, save_project
from ..schema import ColumnMapping
from . import dialogs, help_dialogs
from .accessibility import name_widgets
from .paths import autosave_path
from .state import AppState, load_and_propose, validate_and_prepare
from .worker import Worker

log = logging.getLogger("fairdesk.gui")

DATA_FILTER = ("Data files (*.csv *.tsv *.txt *.xlsx *.xlsm *.ods);;"
               "FairDesk projects (*.fairdesk);;All files (*)")
MAX_RECENT = 8
AUTOSAVE_MINUTES = 3


class PageScroll(QScrollArea):
    """Holds a page: the page fills the window, and scrolls only when the window is smaller
    than the page's minimum size. (A plain resizable scroll area would give a page with
    wrapped text its preferred height for the width — taller than the window — and scroll
    where the page could have shrunk.)"""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.NoFrame)
        self.setWidgetResizable(False)

    def _fit(self) -> None:
        page = self.widget()
        if page is None:
            return
        need = page.minimumSizeHint().expandedTo(page.minimumSize())
        room = self.maximumViewportSize()
        width = max(room.width(), need.width())
        height = max(room.height(), need.height())
        bar = self.verticalScrollBar().sizeHint().width()
        if height > room.height() and width == room.width():
            width = max(room.width() - bar, need.width())  # room for the vertical bar
        if width > room.width() and height == room.height():
            height = max(room.height() - self.horizontalScrollBar().sizeHint().height(),
                         need.height())
        page.resize(width, height)

    def setWidget(self, page) -> None:  # noqa: N802
        super().setWidget(page)
        page.installEventFilter(self)  # its minimum size changes with its content

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if obj is self.widget() and event.type() == QEvent.LayoutRequest:
            self._fit()
        return super().eventFilter(obj, event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        self._fit()
        super().resizeEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802
        self._fit()
        super().showEvent(event)


class MainWindow(QMainWindow):
    dataReady = Signal()  # validated data is in the state (tests wait for it)

    def __init__(self, page_classes=None, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle(f"FairDesk {__version__}")
        self.setAcceptDrops(True)
        self.qsettings = settings or QSettings("FairDesk", "FairDesk")
        self.state = AppState(self)
        self.state.recent_files = self._recent
        self.worker = Worker(self)
        self._pending_project: Project | None = None
        self._pending_project_path: str | None = None
        self._validation_generation = 0

        self.nav = QListWidget()
        self.nav.setMaximumWidth(230)
        self.nav.setMinimumWidth(180)
        self.nav.setStyleSheet(f"QListWidget {{ {font_css(1.15)}; }}"
                               "QListWidget::item { padding: 7px 6px; }")
        self.stack = QStackedWidget()
        self.pages = []
        for cls in (page_classes if page_classes is not None else default_pages()):
            self.add_page(cls(self.state, self.worker))
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setAccessibleName("Pages")
        # names for screen readers, for the controls a page has once it is shown
        self.stack.currentChanged.connect(lambda i: name_widgets(self.stack.widget(i)))
        self.dataReady.connect(lambda: name_widgets(self.stack.currentWidget()))
        splitter = QSplitter()
        splitter.addWidget(self.nav)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)

        self._build_status_bar()
        self._build_menus()
        self.worker.started.connect(self._job_started)
        self.worker.progress.connect(self._job_progress)
        self.worker.finished.connect(self._job_finished)
        self.worker.failed.connect(self.show_error)
        self.state.dataChanged.connect(self._update_status)
        self.state.dataChanged.connect(self._update_nav)
        self.state.tableChanged.connect(self._update_status)
        self.state.validationRequested.connect(self.validate)
        self.state.openRequested.connect(self.open_dialog)
        self.state.openPathRequested.connect(self.open_path)
        self._update_nav()
        self._update_status()
        self.nav.setCurrentRow(0)
        self._restore_window()
        # autosave every few minutes, so that a crash loses little; removed on a clean exit
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MINUTES * 60 * 1000)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    # --- pages ----------------------------------------------------------------------------------
    def add_page(self, page) -> None:
        self.pages.append(page)
        # a page taller or wider than the window (a small screen, large fonts) scrolls
        # instead of pushing the window off the screen
        scroll = PageScroll()
        scroll.setWidget(page)
        self.stack.addWidget(scroll)
        item = QListWidgetItem(page.title)
        item.setToolTip(page.toolTip() or page.title)
        self.nav.addItem(item)

    def current_page(self):
        return self.pages[self.stack.currentIndex()]

    def page(self, key: str):
        return next(p for p in self.pages if p.key == key)

    def show_page(self, key: str) -> None:
        self.nav.setCurrentRow([p.key for p in self.pages].index(key))

    def _update_nav(self) -> None:
        has_data = self.state.data is not None
        for i, page in enumerate(self.pages):
            item = self.nav.item(i)
            enabled = has_data or not page.needs_data
            flags = item.flags()
            item.setFlags(flags | Qt.ItemIsEnabled if enabled else flags & ~Qt.ItemIsEnabled)

    # --- status bar and jobs --------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.file_label = QLabel()
        self.rows_label = QLabel()
        self.groups_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(320)
        self.progress.setMinimumWidth(240)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running computation (Esc)")
        self.cancel_button.setShortcut(QKeySequence(Qt.Key_Escape))
        self.cancel_button.clicked.connect(self.worker.cancel_all)
        for w in (self.file_label, self.rows_label, self.groups_label):
            sb.addWidget(w)
        # A temporary message is painted over the normal widgets on some platforms; hide
        # them while it shows so the two texts never overprint each other.
        sb.messageChanged.connect(lambda text: [w.setVisible(not text) for w in (
            self.file_label, self.rows_label, self.groups_label)])
        box = QWidget()
        lay = QHBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.progress)
        lay.addWidget(self.cancel_button)
        sb.addPermanentWidget(box)
        self.progress.hide()
        self.cancel_button.hide()

    def _job_started(self, title: str) -> None:
        self._job_clock = time.monotonic()
        self.progress.setValue(0)
        self.progress.setFormat(title)
        self.progress.show()
        self.cancel_button.show()

    def _job_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        left = time_left(time.monotonic() - getattr(self, "_job_clock", time.monotonic()),
                         fraction)
        if message:
            self.progress.setFormat(f"{message} (%p%{', ' + left if left else ''})")

    def _job_finished(self) -> None:
        if not self.worker.busy:
            self.progress.hide()
            self.cancel_button.hide()

    def _update_status(self) -> None:
        t = self.state.table
        if t is None and self.state.data is not None:
            d = self.state.data
            self.file_label.setText("Data set in memory")
            self.rows_label.setText(f"{d.n:,} rows used, {d.n_excluded:,} excluded")
            self.groups_label.setText(f"{d.n_groups} groups")
            return
        if t is None:
            self.file_label.setText("No file open — File ▸ Open, or drop a file here")
            self.rows_label.setText("")
            self.groups_label.setText("")
            return
        sheet = f" [{t.source.sheet}]" if t.source.sheet else ""
        self.file_label.setText(f"{Path(t.source.path).name}{sheet}")
        self.file_label.setToolTip(t.source.path)
        d = self.state.data
        if d is None:
            self.rows_label.setText(f"{t.source.n_rows:,} rows read — map the columns")
            self.groups_label.setText("")
        else:
            self.rows_label.setText(f"{d.n:,} rows used, {d.n_excluded:,} excluded")
            # '; ' between names: an intersection's own name has ', ' in it ("Group A, Female")
            shown = "; ".join(d.group_names[:3]) + (" …" if d.n_groups > 3 else "")
            self.groups_label.setText(f"{d.n_groups} groups: {shown}")
            self.groups_label.setToolTip("\n".join(d.group_names))

    # --- menus ----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        m = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open…", self, shortcut=QKeySequence.Open,
                                   triggered=self.open_dialog)
        m.addAction(self.open_action)
        self.recent_menu = m.addMenu("Open &recent")
        self._refresh_recent()
        m.addSeparator()
        m.addAction(QAction("&Save project", self, shortcut=QKeySequence.Save,
                            triggered=self.save_project))
        m.addAction(QAction("Save project &as…", self, shortcut=QKeySequence("Ctrl+Shift+S"),
                            triggered=lambda: self.save_project(ask=True)))
        m.addSeparator()
        self.export_action = QAction("&Export decision tables…", self,
                                     shortcut=QKeySequence("Ctrl+E"), triggered=self.export_dialog)
        m.addAction(self.export_action)
        self.export_rows_action = QAction("Export row-level &decisions…", self,
                                          shortcut=QKeySequence("Ctrl+Shift+E"),
                                          triggered=self.export_rows_dialog)
        m.addAction(self.export_rows_action)
        m.addSeparator()
        m.addAction(QAction("&Quit", self, shortcut=QKeySequence.Quit, triggered=self.close))
        v = self.menuBar().addMenu("&View")
        for i, page in enumerate(self.pages):
            act = QAction(page.title, self)
            if i < 10:  # Ctrl+1 … Ctrl+9, then Ctrl+0 for the tenth page
                act.setShortcut(QKeySequence(f"Ctrl+{(i + 1) % 10}"))
            act.triggered.connect(lambda _=False, row=i: self.nav.setCurrentRow(row))
            v.addAction(act)
        h = self.menuBar().addMenu("&Help")
        h.addAction(QAction("Metrics &glossary", self, shortcut=QKeySequence.HelpContents,
                            triggered=lambda: help_dialogs.GlossaryDialog(self).exec()))
        h.addAction(QAction("Which fairness &measure?", self, triggered=self.which_measure))
        h.addSeparator()
        h.addAction(QAction("&About FairDesk", self, triggered=self.about))

    def about(self) -> None:
        QMessageBox.about(self, "About FairDesk",
                          f"<b>FairDesk {__version__}</b><p>Turn a risk score into decisions, fairly "
                          "across groups, and defend the choice.</p><p>Everything runs on this "
                          "computer: FairDesk never opens a network connection.</p>")

    def which_measure(self) -> None:
        dlg = help_dialogs.WhichMeasureDialog(self)
        if dlg.exec() and dlg.recommended_rate:
            try:
                self.show_page("audit")
                self.page("audit").focus_rate(dlg.recommended_rate)
            except (StopIteration, AttributeError):
                pass

    # --- recent files and window state ----------------------------------------------------------
    def _recent(self) -> list[str]:
        value = self.qsettings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if v]

    def _add_recent(self, path: str) -> None:
        items = [path] + [p for p in self._recent() if p != path]
        self.qsettings.setValue("recent", items[:MAX_RECENT])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        items = self._recent()
        for i, path in enumerate(items):
            act = QAction(f"&{i + 1} {Path(path).name}", self)
            act.setToolTip(path)
            act.triggered.connect(lambda _=False, p=path: self.open_path(p))
            self.recent_menu.addAction(act)
        self.recent_menu.setEnabled(bool(items))

    def _restore_window(self) -> None:
        geo = self.qsettings.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else None
        if available is not None and available.width() > 0:
            if geo is None:
                size = initial_size(available.width(), available.height())
                self.resize(*size)
                self.move(available.x() + (available.width() - size[0]) // 2,
                          available.y() + (available.height() - size[1]) // 2)
            elif (self.width() > available.width() or self.height() > available.height()):
                # a window saved on a larger screen: never larger than this one
                self.resize(min(self.width(), available.width()),
                            min(self.height(), available.height()))
                self.move(available.topLeft())
        elif geo is None:
            self.resize(*initial_size(1280, 800))
        state = self.qsettings.value("windowState")
        if state is not None:
            self.restoreState(state)

    def autosave(self) -> None:
        """Save the analysis to the user's data folder (silently; failures are logged)."""
        if self.state.table is None:
            return
        try:
            save_project(self.current_project(), autosave_path())
        except Exception:  # autosave must never interrupt the analyst
            log.exception("autosave failed")

    def closeEvent(self, event) -> None:
        try:
            autosave_path().unlink(missing_ok=True)  # a clean exit: nothing to recover
        except OSError:
            pass
        self.qsettings.setValue("geometry", self.saveGeometry())
        self.qsettings.setValue("windowState", self.saveState())
        self.worker.cancel_all()
        self.worker.wait(5000)
        super().closeEvent(event)

    # --- drag and drop --------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_path(files[0])

    # --- opening --------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(Path(self._recent()[0]).parent) if self._recent() else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open data or project", start, DATA_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str, sheet=None, decimal=None) -> None:
        """Open a data file (asking for the sheet when there are several) or a project.

        ``decimal`` is the analyst's answer when a column's numbers read two ways."""
        if str(path).lower().endswith(".fairdesk"):
            self.open_project(path)
            return
        if self.worker.busy:
            self.show_error("Please wait for the running job to finish, or cancel it.", "")
            return
        if sheet is None and Path(path).suffix.lower() in (".xlsx", ".xlsm", ".ods"):
            try:
                choices = sheet_choices(path)  # the default sheet first, hidden ones marked
            except FairDeskError as err:
                self.show_error(str(err), "")
                return
            if len(choices) > 1:
                sheet = dialogs.choose_sheet(self, Path(path).name, [n for n, _ in choices],
                                             hidden={n for n, h in choices if h})
                if sheet is None:
                    return
        self.worker.start(load_and_propose, path, sheet, decimal,
                          title=f"Opening {Path(path).name}",
                          on_result=lambda r, p=path, s=sheet: self._loaded(p, r, s),
                          on_error=self._load_failed)

    def _load_failed(self, message: str, details: str) -> None:
        """The file could not be read: the current analysis and project stay as they were."""
        self._pending_project = None
        self._pending_project_path = None
        self.show_error(message, details)

    def _when_idle(self, callback) -> None:
        """Run ``callback`` as soon as no job is running (at once when none is)."""
        if not self.worker.busy:
            callback()
            return

        def check():
            if not self.worker.busy:
                self.worker.finished.disconnect(check)
                callback()
        self.worker.finished.connect(check)

    def _loaded(self, path: str, result, sheet=None) -> None:
        if isinstance(result, AmbiguousDecimalError):
            decimal = dialogs.ask_decimal(self, str(result), result.example)
            if decimal is not None:  # read again once this job has handed over
                self._when_idle(lambda: self.open_path(path, sheet, decimal))
            return
        table, mapping = result
        pending = self._pending_project
        if pending is not None:
            mapping = ColumnMapping.from_dict(pending.mapping)
            self.state.invalid_scores = pending.invalid_scores
            self.state.min_group_size = pending.min_group_size
        # only now, with the new file read, does the window switch to the new project (or to
        # no project: Save then asks where, instead of writing over the previous project)
        project_path = self._pending_project_path if pending is not None else None
        if project_path is not None and Path(project_path) == autosave_path():
            project_path = None  # a recovered autosave is saved where the analyst says
        self.state.project_path = project_path
        self._pending_project_path = None
        if pending is not None:
            self.state.seeds = dict(pending.seeds)
            self._add_recent(str(Path(project_path or pending.input_path).resolve()))
        self.state.set_table(table, mapping)
        self._add_recent(str(Path(path).resolve()))
        log.info("opened file: %d rows x %d columns", table.source.n_rows, table.source.n_columns)
        self.show_page("data")
        self.validate()

    def validate(self) -> None:
        """Validate the table with the current mapping (in the worker)."""
        if self.state.table is None:
            return
        self._validation_generation += 1
        generation = self._validation_generation
        self.worker.start(validate_and_prepare, self.state.table.frame,
                          ColumnMapping.from_dict(self.state.mapping.to_dict()),
                          self.state.invalid_scores, self.state.min_group_size,
                          title="Checking the data",
                          on_result=lambda r, n=generation: self._validated(r, n),
                          on_error=self._validation_failed)

    def _validated(self, result, generation: int | None = None) -> None:
        if generation is not None and generation != self._validation_generation:
            return  # an older validation finishing after a newer one was asked for
        data, scores, problems = result
        pending = self._pending_project
        self._pending_project = None
        old = self.state.data
        # a new mapping of the same scores keeps the analyst's thresholds
        keep = (old is not None and data is not None and pending is None
                and old.mapping.score == data.mapping.score
                and old.mapping.higher_is_positive == data.mapping.higher_is_positive
                and (not self.state.group_specific or old.group_names == data.group_names))
        self.state.set_data(data, scores, problems=problems, keep_thresholds=keep)
        if data is None:  # the Data page lists what blocks the analysis
            self.show_page("data")
            self.statusBar().showMessage("The data has problems to fix: see the Data page.", 8000)
            return
        if pending is not None:
            self._apply_project_settings(pending)
        self.dataReady.emit()

    def _validation_failed(self, message: str, details: str) -> None:
        self._pending_project = None
        self.state.set_data(None)
        self.show_error(message, details)

    # --- projects -------------------------------------------------------------------------------
    def current_project(self) -> Project:
        t = self.state.table
        if t is None:
            raise FairDeskError("Open a data file first.")
        return Project(input_path=t.source.path, input_sha256=t.source.sha256,
                       mapping=self.state.mapping.to_dict(), sheet=t.source.sheet,
                       invalid_scores=self.state.invalid_scores,
                       min_group_size=self.state.min_group_size,
                       settings={**{p.key: p.settings() for p in self.pages},
                                 "_thresholds": {"values": self.state.thresholds.tolist(),
                                                 "group_specific": self.state.group_specific,
                                                 "rules": self.state.threshold_rules}},
                       seeds=dict(self.state.seeds),
                       scenarios=[sc.to_dict() for sc in self.state.scenarios])

    def save_project(self, ask: bool = False) -> str | None:
        try:
            project = self.current_project()
        except FairDeskError as err:
            self.show_error(str(err), "")
            return None
        path = self.state.project_path
        asked = ask or not path
        if asked:
            suggested = str(Path(project.input_path).with_suffix(".fairdesk"))
            path, _ = QFileDialog.getSaveFileName(self, "Save project", suggested,
                                                  "FairDesk projects (*.fairdesk)")
            if not path:
                return None
        try:
            # the save dialog has asked before replacing an existing file; Ctrl+S replaces
            # only the project shown (a FairDesk project), never another kind of file
            # (only the very file the dialog named: a name given without .fairdesk gets
            # the extension, and that other file was never confirmed)
            saved = save_project(project, path,
                                 force=asked and str(path).lower().endswith(".fairdesk"))
        except FairDeskError as err:
            self.show_error(str(err), "")
            return None
        self.state.project_path = str(saved)
        self._add_recent(str(saved))
        self.statusBar().showMessage(f"Project saved to {saved}", 5000)
        return str(saved)

    def open_project(self, path: str) -> None:
        """Open a project: validated first; the current analysis (and the project Save
        writes to) stays until the project's data file has been read."""
        if self.worker.busy:
            self.show_error("Please wait for the running job to finish, or cancel it, before "
                            "opening a project.", "")
            return
        try:
            project = load_project(path)
            problem = check_input(project)  # the data path: a regular data file, unchanged
        except FairDeskError as err:
            self.show_error(str(err), "")
            return
        if problem is not None:
            if not Path(project.input_path).exists():
                self.show_error(problem, "")
                return
            if not self.ask_changed_input(problem):
                return
        self._pending_project = project
        self._pending_project_path = str(path)
        self.open_path(project.input_path, sheet=project.sheet if project.sheet is not None else 0)

    def ask_changed_input(self, problem: str) -> bool:
        """Whether to open a project whose data file changed (the message has its full path)."""
        answer = QMessageBox.warning(
            self, "Input file changed", problem + "\n\nOpen the file as it is now, with the "
            "project's settings? (The results will not match the saved analysis.)",
            QMessageBox.Open | QMessageBox.Cancel, QMessageBox.Cancel)
        return answer == QMessageBox.Open

    def _apply_project_settings(self, project: Project) -> None:
        for page in self.pages:
            if page.key in project.settings:
                try:
                    page.apply_settings(project.settings[page.key])
                except Exception:  # a stale setting must not stop the project from opening
                    log.exception("could not apply settings of page %s", page.key)
        from ..scenarios import Scenario
        try:
            self.state.set_scenarios([Scenario.from_dict(d) for d in project.scenarios])
        except (KeyError, TypeError):
            log.warning("could not restore the project's scenarios")
        # the thresholds in force when the project was saved win over any page's defaults
        saved = project.settings.get("_thresholds")
        if saved and self.state.data is not None:
            try:
                self.state.set_thresholds(saved["values"], saved.get("group_specific", False),
                                          rules=saved.get("rules"))
            except (ValueError, KeyError, TypeError):
                log.warning("could not restore the project's thresholds")

    # --- export ---------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        if self.state.data is None:
            self.show_error("Open and map a data file before exporting.", "")
            return
        src = Path(self.state.table.source.path)
        path, _ = QFileDialog.getSaveFileName(self, "Export decision tables",
                                              str(src.with_name(src.stem + " decision tables.xlsx")),
                                              "Excel workbook (*.xlsx)")
        if path:
            if not path.lower().endswith(".xlsx"):
                path += ".xlsx"
            # what goes in: every page with a result is offered, all ticked
            tables = {p.key: p.export_tables() for p in self._export_order()}
            offered = [(p.key, p.title) for p in self._export_order() if tables[p.key]]
            chosen = dialogs.choose_sections(self, offered)
            if chosen is None:
                return
            confirm_replace(path)  # the save dialog asked before replacing an existing file
            self.export_workbook(path, chosen, tables)

    def _export_order(self):
        # the decision table's meeting sheets (Summary, Comparison, …) come first
        return sorted(self.pages, key=lambda p: p.key != "decision")

    def export_workbook(self, path: str, sections: list[str] | None = None,
                        tables_by_page: dict | None = None) -> None:
        """Write the decision tables of the pages ``sections`` (page keys; None = all);
        ``tables_by_page`` holds tables the caller already made."""
        from ..reports.audit_report import write_decision_tables

        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        tables = []
        settings = {}
        for page in self._export_order():
            if sections is not None and page.key not in sections:
                continue
            tables.extend(tables_by_page[page.key] if tables_by_page and page.key in tables_by_page
                          else page.export_tables())
            s = page.export_settings()
            if s:
                settings[page.title] = s
        seeds = dict(self.state.seeds)
        for sc in self.state.scenarios:  # every random step behind a scenario, recorded
            if isinstance(sc.origin, dict) and "seed" in sc.origin:
                seeds[f"scenario {sc.name}"] = sc.origin["seed"]
        self.worker.start(write_decision_tables, path, self.state.table.source, self.state.data,
                          tables, settings, seeds, title="Writing the workbook",
                          on_result=lambda p: self.statusBar().showMessage(f"Saved {p}", 8000))

    def export_rows_dialog(self) -> None:
        if self.state.data is None:
            self.show_error("Open and map a data file before exporting.", "")
            return
        path = dialogs.ask_output_path(self, "Export row-level decisions", self.state.table,
                                       "decisions.csv")
        if path:
            self.export_rows(path)

    def export_rows(self, path: str) -> None:
        from ..reports.audit_report import write_row_decisions

        self.worker.start(write_row_decisions, path, self.state.table.source, self.state.data,
                          self.state.thresholds, self.state.group_specific,
                          title="Writing row-level decisions",
                          on_result=lambda p: self.statusBar().showMessage(f"Saved {p}", 8000))

    # --- errors ---------------------------------------------------------------------------------
    def show_error(self, message: str, details: str = "") -> None:
        dialogs.ErrorDialog(self, message, details).exec()


def time_left(elapsed: float, fraction: float) -> str:
    """'about 40 s left' once a job has run long enough to say (2 s and 5 %), else ''."""
    if elapsed < 2.0 or not 0.05 <= fraction < 1.0:
        return ""
    seconds = elapsed * (1.0 - fraction) / fraction
    if seconds < 60:
        return f"about {max(1, round(seconds / 5) * 5) if seconds > 10 else round(seconds)} s left"
    return f"about {round(seconds / 60)} min left"


def initial_size(available_width: int, available_height: int) -> tuple[int, int]:
    """The first window's size on a screen with this much room (taskbar excluded): all of it
    on a laptop (1366×768 and smaller), else 1440×900 at most — never larger than the room."""
    width = available_width if available_width <= 1440 else min(1440, int(available_width * 0.9))
    height = available_height if available_height <= 800 else min(900, int(available_height * 0.9))
    return width, height


def default_pages():
    from .pages.audit_page import AuditPage
    from .pages.data_page import DataPage
    from .pages.recall_page import RecallPage
    from .pages.decision_page import DecisionPage
    from .pages.eodds_page import EqualizedOddsPage
    from .pages.correction_page import CorrectionPage
    from .pages.households_page import HouseholdsPage
    from .pages.tiers_page import TiersPage
    from .pages.transport_page import TransportPage
    from .pages.over_time_page import OverTimePage
    return [DataPage, TiersPage, AuditPage, CorrectionPage, RecallPage, EqualizedOddsPage,
            HouseholdsPage, TransportPage, OverTimePage, DecisionPage]
