"""Turning fetched bytes into text: article pages (trafilatura), PDFs (pypdf), HTML snippets.

Each function returns an `Extracted` or raises `ExtractionError` with a reason a
person can act on; spiders turn that into a fetch error and go on.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)

MIN_WORDS = 3
DATE_PARAMS = {"extensive_search": False, "original_date": True}


class ExtractionError(ValueError):
    """The content could not be turned into text; the message says why."""


@dataclass
class Extracted:
    """Main text and metadata read from one page or file."""

    text: str
    title: str | None = None
    published: str | None = None
    author: str | None = None
    note: str = ""          # something wrong but recovered (e.g. a wrong charset)
    language: str | None = None  # when the extractor knows it (else the pipeline detects it)


class ExtractorPool:
    """Extraction in worker processes, so the crawler uses more than one core.

    trafilatura and pypdf are CPU-bound Python; run in the reactor thread they
    serialise with downloading, parsing and storing. With `processes` > 0 the
    reactor hands the page to a worker and keeps crawling while it waits.
    """

    def __init__(self, processes: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.processes = processes
        # spawn, not fork: the crawl process already runs threads (the writer).
        self._pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_warm_worker)

    async def run(self, func, *args) -> Extracted:
        """Run `func(*args)` in a worker; ExtractionError comes back as raised there."""
        import asyncio

        return await asyncio.wrap_future(self._pool.submit(func, *args))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _warm_worker() -> None:
    import trafilatura  # noqa: F401  (import once per worker, not per page)


def extract_html(html: str, url: str | None = None) -> Extracted:
    """Main text, title, date and author of an article page, boilerplate removed."""
    import trafilatura

    if not html or not html.strip():
        raise ExtractionError("empty page")
    try:
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_tables=True,
            # Dates from markup and URL only: htmldate's extensive search falls back to
            # dateparser over every locale, seconds per page on undated pages.
            date_extraction_params=DATE_PARAMS,
        )
    except Exception as exc:  # trafilatura raises many kinds on hostile markup
        raise ExtractionError(f"could not parse the page: {type(exc).__name__}: {exc}") from exc
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if len(text.split()) < MIN_WORDS:
        raise ExtractionError("no main text found on the page")
    return Extracted(
        text=text,
        title=_clean(getattr(doc, "title", None)),
        published=getattr(doc, "date", None) or None,
        author=_clean(getattr(doc, "author", None)),
    )


def extract_pdf(data: bytes) -> Extracted:
    """Text and title of a PDF; raises for broken files and PDFs without a text layer."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data.startswith(b"%PDF"):
        raise ExtractionError("not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:
                raise ExtractionError("PDF is encrypted") from exc
        pages = [(page.extract_text() or "") for page in reader.pages]
        meta = reader.metadata
        title = _clean(meta.title) if meta and meta.title else None
        published = str(meta.creation_date) if meta and meta.creation_date else None
    except ExtractionError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractionError(f"unreadable PDF: {type(exc).__name__}: {exc}") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if len(text.split()) < MIN_WORDS:
        raise ExtractionError(f"PDF has no extractable text ({len(pages)} pages; scanned images?)")
    if not title:
        title = _clean(text.strip().splitlines()[0])[:300]
    return Extracted(text=text, title=title, published=published)


_BLOCK = re.compile(r"(?i)</?(p|div|br|li|h[1-6]|blockquote|tr|section|article)\b[^>]*>")


def html_to_text(fragment: str | None) -> str:
    """Readable text of an HTML snippet (feed summary, forum post), paragraphs kept."""
    if not fragment:
        return ""
    import lxml.html

    if "<" not in fragment:
        return _squeeze(fragment)
    marked = _BLOCK.sub(lambda m: "\n" + m.group(0), fragment)
    try:
        root = lxml.html.fromstring(f"<div>{marked}</div>")
    except Exception:  # lxml gives up on some junk; strip tags crudely then
        return _squeeze(re.sub(r"<[^>]+>", " ", fragment))
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    return _squeeze(root.text_content())


_LATIN = ("cp1250", "cp1252", "latin_1", "iso8859_2", "iso8859_15", "cp1254", "cp1257",
          "iso8859_9", "mac_roman", "cp850", "cp1125")
# Single-byte code pages that detection confuses with each other on short texts.
LATIN_CODEPAGES = frozenset(codecs.lookup(n).name for n in _LATIN)


def redecode(body: bytes, declared: str) -> tuple[str, str] | None:
    """Text of a body whose declared charset is wrong (it decoded to U+FFFD), and a note.

    None when the replacement characters were in the body all along.
    """
    if "\ufffd".encode() in body:
        return None
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    encoding = best.encoding if best is not None and best.encoding else "cp1252"
    if codecs.lookup(encoding).name in LATIN_CODEPAGES:
        encoding = "cp1252"  # detection cannot tell the Latin code pages apart reliably
    if codecs.lookup(encoding).name == codecs.lookup(declared or "utf-8").name:
        return None
    return (body.decode(encoding, "replace"),
            f"page declares charset {declared or 'none'} but is not; decoded as {encoding}")


def _squeeze(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line).strip()


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def is_pdf(content_type: str, url: str, body: bytes) -> bool:
    """Whether a response is a PDF (by type, extension or magic bytes)."""
    return "pdf" in content_type.lower() or url.lower().split("?")[0].endswith(".pdf") or (
        body[:4] == b"%PDF"
    )
