"""Generate tests/data/bad/: small files that each break loading or validation one way.

    python tests/data/make_bad_corpus.py [--out DIR]

Every file is made from fixed numbers (no clock, no random generator), so running the
script again gives the same files: text files byte for byte; zip files (XLSX/ODS) with
the same members, bytes and fixed timestamps (their compressed bytes depend only on the
zlib library). README.md in the output folder lists each file, what it tests and the
message FairDesk gives; tests/test_bad_inputs.py asserts those messages.

No real person's data: the rows are arithmetic.
"""

from __future__ import annotations

import argparse
import base64
import codecs
import hashlib
import io
import struct
import sys
import zipfile
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "bad"
FIXED_TIME = (2024, 1, 1, 0, 0, 0)  # every zip member's timestamp

HEADER = ["person_id", "score", "outcome", "race", "weight"]
GROUPS = ["Group A", "Group B", "Group C"]


# ------------------------------------------------------------------------ the rows


def base_rows(n: int = 60) -> list[list]:
    """n rows of person_id, score, outcome, race, weight (arithmetic, fixed)."""
    rows = []
    for i in range(n):
        score = ((i * 7919) % 1000) / 1000
        outcome = 1 if ((i * 373) % 1000) / 1000 < score else 0
        rows.append([100001 + i, f"{score:.3f}", outcome, GROUPS[i % 3], "1"])
    return rows


def _field(value, sep: str) -> str:
    """RFC 4180: a field holding the separator, a quote or a line break is quoted."""
    text = str(value)
    if any(c in text for c in (sep, '"', "\r", "\n")):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(header, rows, sep=",", newline="\r\n") -> str:
    lines = [sep.join(_field(v, sep) for v in r) for r in [header] + list(rows)]
    return newline.join(lines) + newline


# ------------------------------------------------------------------------ zip helpers


def _zip(entries, level: int = 9) -> bytes:
    """A zip of (name, bytes, method) entries with fixed timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, method in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            if method == zipfile.ZIP_DEFLATED:
                archive.writestr(info, data, compresslevel=level)
            else:
                archive.writestr(info, data)
    return buffer.getvalue()


_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms='
    '"http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:creator>FairDesk test corpus</dc:creator>"
    '<dcterms:created xsi:type="dcterms:W3CDTF">2024-01-01T00:00:00Z</dcterms:created>'
    '<dcterms:modified xsi:type="dcterms:W3CDTF">2024-01-01T00:00:00Z</dcterms:modified>'
    "</cp:coreProperties>"
).encode()


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    """An XLSX written by openpyxl, then re-zipped with fixed timestamps and properties."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # '=...' stays text
    raw = io.BytesIO()
    workbook.save(raw)
    return rezip(raw.getvalue(), replace={"docProps/core.xml": _CORE})


def rezip(raw: bytes, replace=None, add=()) -> bytes:
    """The same zip with members replaced/added, fixed timestamps, deflated."""
    replace = dict(replace or {})
    with zipfile.ZipFile(io.BytesIO(raw)) as old:
        entries = [
            (info.filename, replace.get(info.filename, old.read(info.filename)),
             zipfile.ZIP_DEFLATED)
            for info in old.infolist()
        ]
    return _zip(entries + list(add))


_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


def ods_content(rows: list[list], title: str = "Scores") -> bytes:
    def cell(value):
        if isinstance(value, str):
            return (f'<table:table-cell office:value-type="string"><text:p>{value}</text:p>'
                    "</table:table-cell>")
        return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")

    body = "".join("<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>"
                   for r in rows)
    return (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} '
            'office:version="1.2"><office:body><office:spreadsheet>'
            f'<table:table table:name="{title}">{body}</table:table>'
            "</office:spreadsheet></office:body></office:document-content>").encode()


def ods_manifest(encryption: str = "") -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type='
            f'"text/xml" manifest:size="4096">{encryption}</manifest:file-entry>'
            "</manifest:manifest>").encode()


def numeric_rows(n: int = 30) -> list[list]:
    """base_rows with numbers as numbers (for spreadsheets)."""
    return [[r[0], float(r[1]), r[2], r[3], 1] for r in base_rows(n)]


# ------------------------------------------------------------------- special files


class BombEntry(NamedTuple):
    """A deflated zip entry of ``size`` bytes: ``prefix``, then ``fill`` repeated, then
    ``suffix``. It is compressed as a stream (the expanded bytes never exist in memory):
    deflate squeezes a repeated byte about 1030 times, so 126 MB become about 120 KB."""

    name: str
    prefix: bytes
    fill: bytes
    size: int
    suffix: bytes


def zip_with_bomb(entries, bomb) -> bytes:
    """A zip of normal (name, bytes) entries plus one streamed deflate bomb entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, method in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9 if method else None)
        info = zipfile.ZipInfo(bomb.name, date_time=FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        info.file_size = bomb.size  # lets zipfile choose the plain (non-zip64) header
        chunk = bomb.fill * (1 << 20)
        level_attr = "compress_level" if "compress_level" in zipfile.ZipInfo.__slots__ \
            else "_compresslevel"  # renamed in Python 3.13
        setattr(info, level_attr, 9)
        with archive.open(info, "w") as out:
            out.write(bomb.prefix)
            left = bomb.size - len(bomb.prefix) - len(bomb.suffix)
            while left > 0:
                piece = chunk[: min(len(chunk), left)]
                out.write(piece)
                left -= len(piece)
            out.write(bomb.suffix)
    return buffer.getvalue()


def understate_size(raw: bytes, member: str, declared: int) -> bytes:
    """The zip with ``member``'s uncompressed size rewritten as ``declared`` (a lie)."""
    data = bytearray(raw)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        info = archive.getinfo(member)
        position = archive.start_dir
    assert data[info.header_offset:info.header_offset + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, info.header_offset + 22, declared)  # local header
    while True:  # the member's central directory record
        assert data[position:position + 4] == b"PK\x01\x02"
        n_name, n_extra, n_comment = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46:position + 46 + n_name].decode() == member:
            struct.pack_into("<I", data, position + 24, declared)
            return bytes(data)
        position += 46 + n_name + n_extra + n_comment


def _cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal Compound File Binary (OLE2, version 3) with root-level streams.

    Excel saves a password-protected workbook in this container (streams EncryptionInfo
    and EncryptedPackage) whatever its extension says. Streams under 4096 bytes live in
    the mini stream, as the format requires.
    """
    sector, mini, cutoff = 512, 64, 4096
    free, end, fatsect, nostream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    names = list(streams)
    # directory: root + streams; 4 entries per sector
    n_dir = -(-(1 + len(names)) // 4)
    small = [n for n in names if len(streams[n]) < cutoff]
    big = [n for n in names if len(streams[n]) >= cutoff]
    mini_chunks = {n: -(-len(streams[n]) // mini) for n in small}
    n_mini = sum(mini_chunks.values())
    ministream = b"".join(streams[n].ljust(mini_chunks[n] * mini, b"\0") for n in small)
    n_minifat = -(-n_mini // 128) if n_mini else 0
    n_ministream = -(-len(ministream) // sector)
    big_sectors = {n: -(-len(streams[n]) // sector) for n in big}
    used = n_dir + n_minifat + n_ministream + sum(big_sectors.values())
    n_fat = 1
    while used + n_fat > n_fat * 128:
        n_fat += 1
    fat = [free] * (n_fat * 128)

    def chain(first, count):
        for i in range(count):
            fat[first + i] = first + i + 1 if i < count - 1 else end
        return first if count else end

    position = 0
    dir_start = chain(position, n_dir)
    position += n_dir
    minifat_start = chain(position, n_minifat)
    position += n_minifat
    ministream_start = chain(position, n_ministream)
    position += n_ministream
    big_start = {}
    for n in big:
        big_start[n] = chain(position, big_sectors[n])
        position += big_sectors[n]
    fat_first = position
    for i in range(n_fat):
        fat[fat_first + i] = fatsect

    minifat = [free] * (n_minifat * 128)
    mini_start, at = {}, 0
    for n in small:
        count = mini_chunks[n]
        for i in range(count):
            minifat[at + i] = at + i + 1 if i < count - 1 else end
        mini_start[n] = at
        at += count

    def entry(name, kind, color, left, right, child, start, size):
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, color)
                + struct.pack("<III", left, right, child) + b"\0" * 16 + b"\0" * 4
                + b"\0" * 16 + struct.pack("<IQ", start, size))

    # Siblings form a red-black tree ordered by (name length, upper-case name): a chain
    # to the right, each child red below a black parent, is valid for two streams.
    ordered = sorted(names, key=lambda n: (len(n), n.upper()))
    entries = [entry("Root Entry", 5, 1, nostream, nostream, 1 if names else nostream,
                     ministream_start if n_mini else end, len(ministream))]
    for i, n in enumerate(ordered):
        right = i + 2 if i + 1 < len(ordered) else nostream
        start = mini_start[n] if n in mini_start else big_start[n]
        entries.append(entry(n, 2, 1 if i % 2 == 0 else 0, nostream, right, nostream, start,
                             len(streams[n])))
    while len(entries) % 4:
        entries.append(entry("", 0, 0, nostream, nostream, nostream, 0, 0))

    difat = [fat_first + i for i in range(n_fat)] + [free] * (109 - n_fat)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, n_fat, dir_start, 0, cutoff,
                            minifat_start if n_minifat else end, n_minifat, end, 0)
              + struct.pack("<109I", *difat))
    body = b"".join(entries)
    body += struct.pack(f"<{len(minifat)}I", *minifat)
    body += ministream.ljust(n_ministream * sector, b"\0")
    for n in big:
        body += streams[n].ljust(big_sectors[n] * sector, b"\0")
    body += struct.pack(f"<{len(fat)}I", *fat)
    return header + body


def _pseudo_random(n: int, seed: bytes) -> bytes:
    """Deterministic bytes that look encrypted (a SHA-256 counter stream)."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(seed + counter.to_bytes(8, "little")).digest()
        counter += 1
    return bytes(out[:n])


def encrypted_xlsx() -> bytes:
    """What Excel writes for File > Info > Protect Workbook > Encrypt with Password."""
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    salt, key, verifier, hmac_key = (_pseudo_random(16, s) for s in (b"s", b"k", b"v", b"h"))
    descriptor = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption" '
        'xmlns:p="http://schemas.microsoft.com/office/2006/keyEncryptor/password">'
        f'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" '
        f'cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" '
        f'saltValue="{b64(salt)}"/>'
        f'<dataIntegrity encryptedHmacKey="{b64(hmac_key * 4)}" '
        f'encryptedHmacValue="{b64(verifier * 4)}"/>'
        '<keyEncryptors><keyEncryptor uri="http://schemas.microsoft.com/office/2006/'
        'keyEncryptor/password"><p:encryptedKey spinCount="100000" saltSize="16" '
        'blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" '
        f'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="{b64(salt)}" '
        f'encryptedVerifierHashInput="{b64(verifier)}" '
        f'encryptedVerifierHashValue="{b64(verifier * 4)}" '
        f'encryptedKeyValue="{b64(key * 2)}"/></keyEncryptor></keyEncryptors></encryption>'
    ).encode()
    info = struct.pack("<HHI", 4, 4, 0x40) + descriptor  # agile encryption, version 4.4
    plain = xlsx_bytes({"Scores": [HEADER] + numeric_rows(10)})
    package = struct.pack("<Q", len(plain)) + _pseudo_random(-(-len(plain) // 16) * 16, b"p")
    return _cfb({"EncryptionInfo": info, "EncryptedPackage": package})


# ------------------------------------------------------------------------ the corpus


def corpus() -> list[tuple[str, bytes, str, str]]:
    """(file name, bytes, what it tests, the message FairDesk gives)."""
    rows = base_rows()
    good = csv_text(HEADER, rows)
    files: list[tuple[str, bytes, str, str]] = []

    def add(name, data, what, message):
        files.append((name, data if isinstance(data, bytes) else data.encode("utf-8"),
                      what, message))

    # --- files that cannot be read at all ----------------------------------------------
    add("empty.csv", b"", "a file of zero bytes",
        "'empty.csv' is empty: it contains no table. Check that you chose the right file …")
    add("whitespace_only.csv", "\r\n   \r\n\t\r\n", "only blank lines and spaces",
        "'whitespace_only.csv' is empty: it contains no table …")
    add("header_only.csv", csv_text(HEADER, []), "a header row and no data rows",
        "'header_only.csv' has a header row but no data rows. Check that you chose the "
        "right file (or sheet) …")
    add("duplicate_headers.csv",
        csv_text(["person_id", "score", "outcome", "race", "score"],
                 [r[:4] + [r[1]] for r in rows]),
        "the column name 'score' twice",
        "In 'duplicate_headers.csv', column names must be unique, but column 'score' "
        "appears in columns B and E. Rename or delete the repeated columns …")
    add("blank_header_with_values.csv",
        csv_text(["person_id", "score", "", "race", "weight"], rows),
        "an empty header cell above a column of values",
        "… the header cell of column C is empty, but the column holds values (from row 2). Every column "
        "needs a name in the header row …")
    ragged = [list(r) for r in rows[:12]]
    ragged[2] = ragged[2] + ["extra"]  # row 4 in the file
    ragged[5] = ragged[5][:4]  # row 7
    ragged[9] = ragged[9][:3]  # row 11
    add("ragged_rows.csv", csv_text(HEADER, ragged),
        "a different number of fields per row (one long, two short)",
        "In 'ragged_rows.csv', the header has 5 columns but not every row has 5 fields: "
        "row 4 has 6, row 7 has 4, row 11 has 3. Usually a value contains the separator "
        "(comma) without being in double quotes …")
    add("unclosed_quote.csv",
        csv_text(HEADER, rows[:8]) + '100009,0.5,1,"Group A,1\r\n100010,0.2,0,Group B,1\r\n',
        "a double quote that is never closed",
        "In 'unclosed_quote.csv', a double quote (\") opened near row 10 is never closed …")
    undecodable = csv_text(HEADER, rows[:6]).encode("utf-8")
    undecodable = undecodable.replace(b"Group B", b"Group \x81\x8d", 1)
    add("undecodable.csv", undecodable,
        "bytes that are neither UTF-8 nor Windows-1252 text",
        "The text in 'undecodable.csv' could not be decoded (byte 85 is not valid cp1252 "
        "text). … save it again as 'CSV UTF-8' …")
    add("binary_data.csv",
        b"person_id,score\r\n" + bytes(range(256)) * 4,
        "binary bytes (NUL and control characters) in a .csv file",
        "'binary_data.csv' does not contain readable text (it contains binary data) …")
    add("spss_file.sav", b"$FL2@(#) IBM SPSS STATISTICS DATA FILE" + bytes(200) +
        _pseudo_random(300, b"sav"),
        "an unsupported binary format (SPSS .sav)",
        "FairDesk cannot read 'spss_file.sav': the file type .sav is not supported. Save "
        "the table as CSV (.csv, .tsv, .txt), Excel (.xlsx, .xlsm) or OpenDocument (.ods) …")
    small_xlsx = xlsx_bytes({"Scores": [HEADER] + numeric_rows(12)})
    add("workbook_named.csv", small_xlsx, "an Excel workbook saved under a .csv name",
        "'workbook_named.csv' is not a text file: it looks like an Excel or OpenDocument "
        "workbook saved under a text-file name …")
    add("text_named.xlsx", good, "a CSV file renamed to .xlsx",
        "'text_named.xlsx' is not a valid XLSX file: it is damaged or is another kind of "
        "file renamed to this extension …")
    add("truncated.xlsx", small_xlsx[: len(small_xlsx) // 2],
        "an XLSX cut off halfway (an interrupted copy or download)",
        "'truncated.xlsx' is not a valid XLSX file: it is damaged …")
    add("damaged.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + _pseudo_random(3000, b"xls"),
        "a legacy .xls file whose content is garbage",
        "Could not read 'damaged.xls': … The file may be damaged or not in the format its "
        "name suggests …")
    add("header_only.xlsx", xlsx_bytes({"Scores": [HEADER]}),
        "a sheet with a header row and no data",
        "Sheet 'Scores' of 'header_only.xlsx' has a header row but no data rows …")
    add("empty_first_sheet.xlsx",
        xlsx_bytes({"Notes": [], "Scores": [HEADER] + numeric_rows(12)}),
        "the first sheet is empty, the table is on the second",
        "Sheet 'Notes' of 'empty_first_sheet.xlsx' is empty: it contains no table. Choose "
        "another sheet. (Choosing 'Scores' loads 12 rows.)")
    add("duplicate_headers.xlsx",
        xlsx_bytes({"Scores": [["person_id", "score", "race", "outcome", "race"]]
                    + [[r[0], r[1], r[3], r[2], r[3]] for r in numeric_rows(10)]}),
        "the column name 'race' twice in a sheet",
        "In sheet 'Scores' of 'duplicate_headers.xlsx', column names must be unique, but "
        "column 'race' appears in columns C and E …")

    # --- spreadsheets refused for safety --------------------------------------------------
    lol = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(1, 10)
    ]
    with zipfile.ZipFile(io.BytesIO(small_xlsx)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    body = sheet_xml.split(b"?>", 1)[-1]  # without any XML declaration
    evil = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [\n'
            + "\n".join(lol).encode() + b"\n]>\n"
            + body.replace(b"<t>Group A</t>", b"<t>&lol9;</t>", 1))
    add("entity_bomb.xlsx", rezip(small_xlsx, replace={"xl/worksheets/sheet1.xml": evil}),
        "a worksheet XML declaring an entity expansion bomb ('billion laughs': 10^9 × 'lol')",
        "'entity_bomb.xlsx' was refused for safety: its part 'xl/worksheets/sheet1.xml' "
        "declares XML entities (<!DOCTYPE>/<!ENTITY>) …")
    late = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- ' + b"padding " * 1024 + b"-->\n"
            + evil.split(b"?>", 1)[1])
    add("entity_bomb_late.xlsx", rezip(small_xlsx, replace={"xl/worksheets/sheet1.xml": late}),
        "the same bomb declared after an 8 KB comment (past a quick look at the start)",
        "'entity_bomb_late.xlsx' was refused for safety: its part 'xl/worksheets/sheet1.xml' "
        "declares XML entities …")
    sheet_start = sheet_xml.split(b"<sheetData>", 1)[0] + b"<sheetData>"
    bomb = BombEntry("xl/worksheets/sheet1.xml", sheet_start, b" ", 126_000_000,
                              b"</sheetData></worksheet>")
    with zipfile.ZipFile(io.BytesIO(small_xlsx)) as archive:
        others = [(i.filename, archive.read(i.filename), zipfile.ZIP_DEFLATED)
                  for i in archive.infolist() if i.filename != "xl/worksheets/sheet1.xml"]
    add("zip_bomb.xlsx", zip_with_bomb(others, bomb),
        "a 124 KB XLSX whose worksheet expands to 126 MB (ratio about 1030), refused with the "
        "loader's default limits before anything is inflated",
        "'zip_bomb.xlsx' was refused for safety: its part 'xl/worksheets/sheet1.xml' is "
        "compressed more than 1000 times (126 MB when expanded) …")
    lying = BombEntry("xl/worksheets/sheet1.xml", sheet_start, b" ", 120_000_000,
                      b"</sheetData></worksheet>")
    add("zip_bomb_lying_size.xlsx",
        understate_size(zip_with_bomb(others, lying), lying.name, 10_000_000),
        "a zip bomb whose directory claims its worksheet expands to 10 MB (it expands to "
        "120 MB): the readers stop at the declared size",
        "Could not read 'zip_bomb_lying_size.xlsx': Bad CRC-32 for file "
        "'xl/worksheets/sheet1.xml'. The file may be damaged …")
    ods_start = ods_content([HEADER]).split(b"</table:table>")[0]
    ods_bomb = BombEntry("content.xml", ods_start, b" ", 126_000_000,
                                  b"</table:table></office:spreadsheet></office:body>"
                                  b"</office:document-content>")
    add("zip_bomb.ods",
        zip_with_bomb([("mimetype", _ODS_MIME, zipfile.ZIP_STORED),
                       ("META-INF/manifest.xml", ods_manifest(), zipfile.ZIP_DEFLATED)],
                      ods_bomb),
        "a 120 KB ODS whose content.xml expands to 126 MB",
        "'zip_bomb.ods' was refused for safety: its part 'content.xml' is compressed more "
        "than 1000 times (126 MB when expanded) …")
    add("encrypted.xlsx", encrypted_xlsx(),
        "a password-protected workbook (an OLE2 container with EncryptionInfo and "
        "EncryptedPackage, as Excel writes it)",
        "'encrypted.xlsx' is password-protected (encrypted), so FairDesk cannot read it. "
        "Open it in Excel with the password, save an unprotected copy …")
    encryption = ('<manifest:encryption-data manifest:checksum-type="SHA1/1K" '
                  'manifest:checksum="AAAA"><manifest:algorithm manifest:algorithm-name='
                  '"Blowfish CFB" manifest:initialisation-vector="AAAA"/>'
                  '<manifest:key-derivation manifest:key-derivation-name="PBKDF2" '
                  'manifest:iteration-count="1024" manifest:salt="AAAA"/>'
                  "</manifest:encryption-data>")
    add("encrypted.ods",
        _zip([("mimetype", _ODS_MIME, zipfile.ZIP_STORED),
              ("META-INF/manifest.xml", ods_manifest(encryption), zipfile.ZIP_DEFLATED),
              ("content.xml", _pseudo_random(4096, b"ods"), zipfile.ZIP_DEFLATED)]),
        "a password-protected OpenDocument spreadsheet",
        "'encrypted.ods' is password-protected (encrypted), so FairDesk cannot read it. "
        "Open it in LibreOffice with the password, save an unprotected copy …")

    # --- files that load: encodings and separators ------------------------------------------
    add("utf8_bom.csv", codecs.BOM_UTF8 + good.encode(), "UTF-8 with a byte-order mark",
        "loads; the first column is 'person_id' (no stray BOM character); encoding utf-8-sig")
    add("semicolon_decimal_comma.csv",
        csv_text(HEADER, [[r[0], r[1].replace(".", ","), r[2], r[3], "1,0"] for r in rows],
                 sep=";"),
        "European Excel export: ';' separator and decimal comma",
        "loads; separator semicolon; scores read as numbers (0,123 → 0.123)")
    accents = ["Réunion", "Öst-Ländle", "Señal €"]
    add("cp1252.csv",
        csv_text(HEADER, [r[:3] + [accents[i % 3], r[4]] for i, r in enumerate(rows)])
        .encode("cp1252"),
        "Windows-1252 text (accents and the euro sign, not UTF-8)",
        "loads; encoding cp1252; group names 'Réunion', 'Öst-Ländle', 'Señal €' intact")
    add("utf16_unicode_text.txt",
        codecs.BOM_UTF16_LE + csv_text(HEADER, rows, sep="\t").encode("utf-16-le"),
        "Excel's 'Unicode Text' export: UTF-16 little-endian with BOM, tab-separated",
        "loads; encoding utf-16; separator tab")
    add("utf16_no_bom.csv", csv_text(HEADER, rows).encode("utf-16-be"),
        "UTF-16 big-endian without a byte-order mark",
        "loads; encoding utf-16-be (recognised from the NUL bytes)")
    long_rows = [list(r) + [""] for r in rows[:10]]
    long_rows[3][5] = "x" * 200_000
    add("long_cell_200k.csv", csv_text(HEADER + ["notes"], long_rows),
        "one cell of 200,000 characters",
        "loads; the cell keeps all 200,000 characters; mapped as a group, its name is "
        "shortened in messages")
    formulas = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "@SUM(A1)", "-2+3", "=HYPERLINK(\"x\")"]
    formula_rows = [list(r) for r in rows]
    for i, r in enumerate(formula_rows):
        r[3] = formulas[i % 2] if i % 3 == 0 else r[3]
    add("formula_strings.csv",
        csv_text(HEADER + ["note"], [r + [formulas[i % len(formulas)]]
                                     for i, r in enumerate(formula_rows)]),
        "formula-looking text (=cmd|' /C calc'!A0) in a group and a note column",
        "loads as plain text, never evaluated; exported workbooks store it as text and "
        "CSV exports prefix it with '")

    # --- files that load but fail or warn in validation ---------------------------------------
    add("one_row.csv", csv_text(HEADER, rows[:1]), "a single data row",
        "Validation error: Column 'outcome' holds only 0: error rates need rows of both "
        "outcomes …")
    text_scores = [[r[0], ["high", "low", "medium"][i % 3], r[2], r[3], r[4]]
                   for i, r in enumerate(rows)]
    text_scores[7][1] = "0.5"
    add("scores_text.csv", csv_text(HEADER, text_scores),
        "a score column of words (the wrong column mapped as the score)",
        "Validation error: Column 'score' does not hold numeric scores: 59 of 60 values are text (e.g. "
        "'high', 'low', 'medium'; rows 2, 3, 4, 5, 6 and 54 more). Choose the column …")
    some_text = [list(r) for r in rows]
    some_text[1][1] = "n/a - refused"
    some_text[7][1] = "0.4O"  # letter O typed for a zero
    some_text[20][1] = ""
    add("scores_some_text.csv", csv_text(HEADER, some_text),
        "two scores typed as text and one empty",
        "Validation warnings (errors if invalid rows are refused): Column 'score': 2 row(s) "
        "have a score that is not a number (rows 3, 9). They are left out of the analysis …; "
        "Column 'score': 1 row(s) have no score (empty cell) (row 22) …")
    infinite = [list(r) for r in rows]
    infinite[4][1] = "inf"
    infinite[10][1] = "-Infinity"
    add("scores_infinite.csv", csv_text(HEADER, infinite), "infinite scores ('inf', '-Infinity')",
        "Validation warning (error if invalid rows are refused): Column 'score': 2 row(s) have "
        "an infinite score (rows 6, 12). They are left out of the analysis …")
    three = [list(r) for r in rows]
    for i in (3, 17, 40):
        three[i][2] = 2
    add("three_labels.csv", csv_text(HEADER, three), "an outcome column with values 0, 1 and 2",
        "Validation error: Column 'outcome' must hold two outcome values, but it has 3: "
        "1 (30 rows), 0 (27 rows), 2 (3 rows). Choose the right outcome column, or recode it …")
    add("one_group.csv", csv_text(HEADER, [r[:3] + ["Group A", r[4]] for r in rows]),
        "every row in the same protected group",
        "Validation warning: Column 'race' holds one group only ('Group A') in the rows "
        "analysed, so there are no groups to compare and every fairness measure is undefined …")
    one_class = [list(r) for r in rows]
    for r in one_class:
        if r[3] == "Group C":
            r[2] = 0
    add("group_one_class.csv", csv_text(HEADER, one_class),
        "a group in which nobody has the positive outcome",
        "Validation warning: Group 'Group C' has no rows with the positive outcome, so its TPR, "
        "FNR and AUC are undefined (0/0) …")
    negative = [list(r) for r in rows]
    negative[3][4] = "-1"
    negative[30][4] = "-0.5"
    add("negative_weights.csv", csv_text(HEADER, negative), "negative frequency weights",
        "Validation error: Column 'weight': 2 row(s) have a negative weight (rows 5, 32). "
        "Frequency weights must be numbers of zero or more …")
    add("zero_weights.csv", csv_text(HEADER, [r[:4] + ["0"] for r in rows]),
        "every frequency weight zero",
        "Validation error: Column 'weight': every weight is zero, so there is nothing to "
        "analyse.")
    files += fidelity_corpus(rows)
    return files


def fidelity_corpus(rows) -> list[tuple[str, bytes, str, str]]:
    """Files that read silently wrong before issue #13: each is now read as meant, or
    refused with a message (tests/test_input_fidelity.py asserts every one)."""
    files: list[tuple[str, bytes, str, str]] = []

    def add(name, data, what, message):
        files.append((name, data if isinstance(data, bytes) else data.encode("utf-8"),
                      what, message))

    def comma(x: str) -> str:
        return x.replace(".", ",")

    # --- numbers as written ------------------------------------------------------------
    weights = ["1.250", "2.000,5", "12.500", "3,5", "1.000"]
    add("decimal_comma_thousands.csv",
        csv_text(HEADER, [[r[0], comma(r[1]), r[2], r[3], weights[i % 5]]
                          for i, r in enumerate(rows)], sep=";"),
        "';' file with decimal commas and '.' between thousands in the weights",
        "read as meant: weight '1.250' = 1250, '2.000,5' = 2000.5, '3,5' = 3.5 (noted)")
    add("decimal_comma_ambiguous.csv",
        csv_text(HEADER, [[r[0], comma(r[1]), r[2], r[3], ["1.250", "2.500", "1.000"][i % 3]]
                          for i, r in enumerate(rows)], sep=";"),
        "every weight fits both readings ('1.250')",
        "In 'decimal_comma_ambiguous.csv', the numbers in column 'weight' can be read two "
        "ways … add --decimal . or --decimal ,")
    add("thousands_commas.csv",
        csv_text(HEADER, [[r[0], f"{float(r[1]) * 10000:,.1f}", r[2], r[3], r[4]] for r in rows]),
        "'.'-decimal scores with ',' between thousands ('6,412.0', quoted)",
        "read whole: '6,412.0' = 6412.0 in every row, none left out (noted)")
    add("score_word_loses_group.csv",
        "score,outcome,race\r\n0.2,0,a\r\nhigh,1,b\r\n0.9,1,a\r\n",
        "3 rows, 'high' in the only score of group b",
        "Rows with a missing or unreadable score or outcome were found (row 3) … group 'b' "
        "of column 'race' would disappear entirely … --exclude-invalid")
    add("scores_percent_signs.csv",
        csv_text(HEADER, [[r[0], f"{float(r[1]) * 100:g}%" if i in (3, 40) else r[1]]
                          + r[2:] for i, r in enumerate(rows * 2)]),
        "2 of 120 scores written as percentages ('92.3%')",
        "Rows with a missing or unreadable score … some of the cells hold numbers FairDesk "
        "could not read (e.g. …%) …")
    add("scores_near_max_float.csv",
        csv_text(HEADER, [[r[0], "1.7e308" if i in (4, 9) else r[1]] + r[2:]
                          for i, r in enumerate(rows)]),
        "two scores near the largest float (1.7e308)",
        "Column 'score': 2 score(s) are too large to compute with exactly …")
    add("scores_beyond_2_53.csv",
        csv_text(HEADER, [[r[0], str(9007199254740993 + i)] + r[2:] for i, r in enumerate(rows)]),
        "integer scores beyond 2**53 (distinct in the file, equal as floats)",
        "Column 'score': 60 score(s) are too large to compute with exactly …")
    add("weights_overflow.csv",
        csv_text(HEADER, [r[:4] + ["1e308"] for r in rows]),
        "weights whose total overflows",
        "Column 'weight': the weights are too large to add up exactly …")

    # --- workbooks ---------------------------------------------------------------------
    table = [HEADER] + [[r[0], float(r[1]), r[2], r[3], 1] for r in rows]
    add("hidden_first_sheet.xlsx", _hidden_first_xlsx(table),
        "a hidden first sheet, a note sheet and the data on the active third sheet",
        "reads 'Scores' (the active sheet); '(hidden)' marked in the chooser")
    add("stray_far_cell.xlsx", _stray_cell_xlsx(table),
        "one stray value at row 1,000,000, column 16,000 (the sheet's extent is 16 billion cells)",
        "In sheet 'Scores' …, the header cell of column WQJ is empty, but the column holds "
        "values (from row 1000000) …")
    add("formulas_uncalculated.xlsx", _formula_xlsx(table),
        "scores as formulas never calculated, and '#DIV/0!' / '#N/A' error values",
        "Column 'score': 2 cell(s) hold formulas that were never calculated … Column "
        "'score': 2 cell(s) hold Excel error values (#DIV/0!, #N/A …)")
    add("title_row.xlsx", xlsx_bytes({"Scores": [["Risk scores, March 2024"], []] + table}),
        "a title row and a blank row above the header",
        "the title is skipped with a note; the header is row 3")
    add("merged_header.xlsx", _merged_header_xlsx(table),
        "merged header cells over two columns",
        "… the header row (row 1) has merged cells (D1:E1), so some columns have no name …")
    add("title_line.csv", "Risk scores for the March panel\r\n\r\n" + csv_text(HEADER, rows),
        "a title line and a blank line above the header",
        "the title is skipped with a note; the header is row 3")
    add("sep_line.csv", "sep=;\r\n" + csv_text(HEADER, rows, sep=";"),
        "Excel's 'sep=;' first line",
        "the separator is taken from it (noted); the header is row 2")

    # --- groups --------------------------------------------------------------------------
    names = [" Female", "Female", "female", "R\u00e9union", "R\u00c3\u00a9union", "NA", "#N/A",
             "(missing)", ""]
    add("groups_as_written.csv",
        csv_text(HEADER, [r[:3] + [names[i % len(names)], r[4]] for i, r in enumerate(rows * 3)]),
        "spaces, letter case, a mis-decoded 'R\u00e9union', groups named NA/#N/A/(missing), empty cells",
        "spaces trimmed (noted); 'Female'/'female' and 'R\u00c3\u00a9union'/'R\u00e9union' "
        "reported with a suggested merge; 'NA', '#N/A' and '(missing)' kept apart from the "
        "empty cells' group '((missing))'")
    add("mixed_encodings.csv",
        csv_text(HEADER, rows[:3]).encode("utf-8")
        + "100099,0.5,1,R\u00e9union,1\r\n".encode("utf-8")
        + "100100,0.5,0,R\u00e9union,1\r\n".encode("cp1252"),
        "one row saved in UTF-8, another in Windows-1252",
        "'mixed_encodings.csv' mixes two text encodings: row 5 is UTF-8 while row 6 is in "
        "another encoding …")
    add("groups_with_commas.csv",
        csv_text(["score", "outcome", "race", "sex"],
                 [[r[1], r[2], ["Black, non-Hispanic", "White"][i % 2],
                   ["Female", "Male"][(i // 2) % 2]] for i, r in enumerate(rows)]),
        "a group value containing ', ' in an intersection",
        "combined groups are named with ' × ' (e.g. 'Black, non-Hispanic × Female')")
    add("totals_row.csv",
        csv_text(HEADER, rows + [["", "30.0", "1", "Total", "60"]]),
        "a totals row under the table",
        "row 62 looks like a totals row (group 'Total' and its score is outside the others' "
        "range) …")
    add("labels_one_two.csv",
        csv_text(HEADER, [r[:2] + [2 if r[2] == 1 else 1] + r[3:] for r in rows]),
        "outcomes coded 1/2 (no conventional positive value)",
        "… FairDesk took 2 as the positive outcome (the rule: the larger number, or the later "
        "text in alphabetical order) …")
    return files


def _hidden_first_xlsx(table) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    hidden = workbook.create_sheet("Lookup")
    hidden.append(["code", "meaning"])
    hidden.append([1, "yes"])
    hidden.sheet_state = "hidden"
    notes = workbook.create_sheet("Notes")
    notes.append(["Scores from the March model run."])
    scores = workbook.create_sheet("Scores")
    for row in table:
        scores.append(row)
    workbook.active = 2
    raw = io.BytesIO()
    workbook.save(raw)
    return rezip(raw.getvalue(), replace={"docProps/core.xml": _CORE})


def _edited_xlsx(table, edit) -> bytes:
    """The table on a sheet 'Scores', changed by ``edit(sheet)``, with fixed properties."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Scores"
    for row in table:
        sheet.append(row)
    edit(sheet)
    raw = io.BytesIO()
    workbook.save(raw)
    return rezip(raw.getvalue(), replace={"docProps/core.xml": _CORE})


def _stray_cell_xlsx(table) -> bytes:
    return _edited_xlsx(table, lambda sheet: sheet.cell(row=1_000_000, column=16_000, value="x"))


def _formula_xlsx(table) -> bytes:
    def edit(sheet):
        sheet["B3"] = "=B2*2"  # openpyxl stores formulas without a cached value
        sheet["B4"] = "=B2/0"
        sheet["B5"] = "#DIV/0!"
        sheet["B6"] = "#N/A"
    return _edited_xlsx(table, edit)


def _merged_header_xlsx(table) -> bytes:
    def edit(sheet):
        sheet["E1"] = None
        sheet.merge_cells("D1:E1")
    return _edited_xlsx(table, edit)


README_HEAD = """# Bad-input corpus

Generated by `python tests/data/make_bad_corpus.py` (deterministic: run it again and the
files come out the same). `tests/test_bad_inputs.py` has a test for each file that
asserts the message below, and checks that loading leaves the file unchanged (bytes and
modification time). No real person's data: the rows are arithmetic.

Columns of the table files: `person_id, score, outcome, race, weight` (mapped as id,
score, outcome with 1 = positive, group, frequency weight). Row numbers are as the
analyst sees them: the header is row 1.

Not files, tested in `tests/test_bad_inputs.py` on copies: a file deleted between
choosing its sheet and loading it, and a file that cannot be opened (permission denied,
or locked by another program). Real locks cannot be made on Linux, where a file open
in another program is still readable, so "locked" is simulated by making `open` raise
`PermissionError` (what Windows raises for a file Excel holds open) or a sharing-violation
`OSError`.

| File | What it tests | Message (… = shortened) |
| --- | --- | --- |
"""


def write_corpus(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    lines = [README_HEAD]
    for name, data, what, message in corpus():
        path = out / name
        path.write_bytes(data)
        written.append(path)
        kb = len(data) / 1024
        lines.append(f"| `{name}` ({kb:,.1f} KB) | {what} | {message.replace('|', '&#124;')} |\n")
    (out / "README.md").write_text("".join(lines), encoding="utf-8")
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    for path in write_corpus(args.out):
        print(f"{path.stat().st_size:>9,}  {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
