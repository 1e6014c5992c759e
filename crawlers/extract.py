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
START_TIMEOUT = 180.0  # seconds a worker may take to start or to load a model it needs
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
    """Extraction in worker processes, each document under a time limit.

    trafilatura and pypdf are CPU-bound Python; run in the reactor thread they
    serialise with downloading, parsing and storing, and a hostile page (a crafted
    PDF, pathological HTML) could hold the whole crawl. Here every document goes to
    a worker process; one that takes longer than `timeout` seconds is killed and
    replaced, and the document fails with an ExtractionError saying so. The crawl
    goes on.

    Up to `processes` workers run at once. The first starts with the first
    document; another starts only when every running worker is busy and at least
    `grow_after` documents have been extracted, so a crawl of a few dozen pages (a
    feed, a test) never pays for starting workers it does not need.
    """

    def __init__(self, processes: int, timeout: float = 60.0, grow_after: int = 50) -> None:
        import queue
        import threading
        from concurrent.futures import ThreadPoolExecutor

        self.processes = processes
        self.timeout = timeout
        self.grow_after = grow_after
        self._idle: queue.Queue = queue.Queue()  # started workers waiting for a document
        self._workers: list = []
        self._starting = 0
        self._done = 0
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(processes, thread_name_prefix="extract")

    async def run(self, func, *args, needs: tuple = ()) -> Extracted:
        """Run `func(*args)` in a worker; ExtractionError comes back as raised there.

        `needs`: functions (model loads) a worker runs once before its first such
        request, under the start-up limit rather than the document's `timeout`."""
        import asyncio

        return await asyncio.wrap_future(self._threads.submit(self._call, func, args, needs))

    def _call(self, func, args, needs: tuple = ()):
        worker = self._acquire()
        for need in needs:
            if need not in worker.ready:
                ok, value = self._ask(worker, need, (), START_TIMEOUT,
                                      f"the extraction worker took longer than "
                                      f"{START_TIMEOUT:g}s to prepare; abandoned")
                if not ok:
                    self._idle.put(worker)
                    raise value
                worker.ready.add(need)
        ok, value = self._ask(worker, func, args, self.timeout,
                              f"extraction took longer than extract_timeout "
                              f"({self.timeout:g}s); abandoned")
        with self._lock:
            self._done += 1
        self._idle.put(worker)
        if ok:
            return value
        raise value

    def _ask(self, worker, func, args, timeout: float, overrun: str) -> tuple[bool, object]:
        """One request to `worker`: (ok, result or the exception to raise). A worker that
        dies or overruns `timeout` is killed and an ExtractionError raised."""
        try:
            worker.conn.send((func, args))
        except OSError as exc:  # it died while idle
            self._kill(worker)
            raise ExtractionError(f"the extraction worker died: {type(exc).__name__}") from exc
        if not worker.conn.poll(timeout):
            self._kill(worker)
            raise ExtractionError(overrun)
        try:
            return worker.conn.recv()
        except (EOFError, OSError) as exc:  # the worker died (out of memory, a crash)
            self._kill(worker)
            raise ExtractionError(f"the extraction worker died: {type(exc).__name__}") from exc

    def _acquire(self):
        """An idle worker, a new one when the pool may grow, or the next to come free."""
        import queue

        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker = self._grow()
                if worker is None:
                    try:  # wait for a busy worker; look again now and then (one may have died)
                        worker = self._idle.get(timeout=0.5)
                    except queue.Empty:
                        continue
            if worker.is_alive():
                return worker
            self._kill(worker)

    def _grow(self):
        """A new worker if the pool may start one now (see the class doc), else None."""
        with self._lock:
            running = len(self._workers) + self._starting
            if running >= self.processes or (running and self._done < self.grow_after):
                return None
            self._starting += 1
        try:
            return self._spawn()
        finally:
            with self._lock:
                self._starting -= 1

    def _spawn(self):
        import multiprocessing

        # spawn, not fork: the crawl process already runs threads (the writer).
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child,), daemon=True, name="radar-extract")
        proc.start()
        child.close()
        proc.conn = parent
        proc.ready = set()  # the `needs` it has run
        # Wait for its imports (seconds), so they never count against a document's time.
        if not parent.poll(START_TIMEOUT) or parent.recv() != "ready":
            proc.kill()
            raise ExtractionError("the extraction worker did not start")
        with self._lock:
            self._workers.append(proc)
        return proc

    @property
    def started(self) -> int:
        """Workers running now."""
        with self._lock:
            return len(self._workers)

    def _kill(self, proc) -> None:
        proc.kill()
        proc.join(5)
        proc.conn.close()
        with self._lock:
            if proc in self._workers:
                self._workers.remove(proc)

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            workers = list(self._workers)
        for proc in workers:
            try:
                proc.conn.send(None)
            except OSError:
                pass
            proc.join(5)
            if proc.is_alive():
                proc.kill()
            proc.conn.close()


def load_html_extractor() -> None:
    """Import trafilatura (~1-2 s): a worker's need before its first page."""
    import trafilatura  # noqa: F401


def load_pdf_extractor() -> None:
    """Import pypdf: a worker's need before its first PDF."""
    import pypdf  # noqa: F401


def _serve(conn) -> None:
    """A worker: run (func, args) requests until told to stop (None) or the pipe closes.

    It imports nothing heavy itself: each kind of request names what it needs
    (`ExtractorPool.run(..., needs=...)`), loaded once before its first such request,
    so a worker that only redacts forum posts never imports trafilatura."""
    conn.send("ready")
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if task is None:
            return
        func, args = task
        try:
            result = (True, func(*args))
        except ExtractionError as exc:
            result = (False, exc)
        except Exception as exc:  # never let one document take the worker down
            result = (False, ExtractionError(f"extraction failed: {type(exc).__name__}: {exc}"))
        try:
            conn.send(result)
        except Exception as exc:  # e.g. a result that cannot be pickled
            conn.send((False, ExtractionError(f"extraction failed: {type(exc).__name__}")))


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


def extract_pdf(data: bytes, max_pages: int = 300) -> Extracted:
    """Text and title of a PDF; raises for broken files, PDFs without a text layer and
    PDFs of more than `max_pages` pages (their reason says so)."""
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
        count = len(reader.pages)
        if count > max_pages:
            raise ExtractionError(f"PDF has {count} pages, more than max_pdf_pages ({max_pages})")
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


# Bounded repetitions: an unclosed "<p" in a megabyte of text costs 2,000 steps, not the
# rest of the text (unbounded `[^>]*` made "<p<p<p..." quadratic).
_BLOCK = re.compile(r"(?i)</?(p|div|br|li|h[1-6]|blockquote|tr|section|article)\b[^<>]{0,2000}>")


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
        return _squeeze(re.sub(r"<[^<>]{0,2000}>", " ", fragment))
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
