"""Export a session: every asset plus a self-contained ``index.html`` gallery of the
conversation and each artwork's version tree (no scripts, no network)."""

from __future__ import annotations

import html
import json
import shutil
import zipfile
from pathlib import Path

from museforge.storage.models import SessionExport, VersionInfo

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;
color:#222;background:#fafafa}
h1{margin-bottom:.2rem} .meta{color:#666;font-size:.9rem}
.msg{margin:.4rem 0;padding:.5rem .8rem;border-radius:8px;max-width:80%}
.user{background:#dbeafe;margin-left:auto} .assistant{background:#eee}
.tool{background:#fff7d6;font-family:monospace;font-size:.8rem}
.art{border:1px solid #ddd;border-radius:10px;padding:1rem;margin:1.5rem 0;background:#fff}
.versions{display:flex;flex-wrap:wrap;gap:1rem}
.version{width:260px;font-size:.85rem} .version img{max-width:100%;border-radius:6px}
.head{outline:3px solid #2563eb;border-radius:6px}
details pre{white-space:pre-wrap;font-size:.75rem;background:#f4f4f4;padding:.4rem}
audio{width:100%}
"""


def export_session(data: SessionExport, dest: Path) -> Path:
    """Copy every asset into ``dest/files`` and write ``dest/index.html``; return its path."""
    dest = Path(dest)
    files_dir = dest / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    copied: dict[Path, str] = {}

    def local(path: Path) -> str:
        if path not in copied:
            target = files_dir / path.name
            if path.is_file():
                shutil.copyfile(path, target)
            copied[path] = f"files/{path.name}"
        return copied[path]

    s = data.session
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>museforge — {html.escape(s.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(s.title or s.name)}</h1>",
        f"<p class='meta'>session <b>{html.escape(s.name)}</b> · started "
        f"{s.created_at:%Y-%m-%d %H:%M} UTC · {_count(len(data.artworks), 'artwork')} · "
        f"{_count(len(data.messages), 'message')}</p>",
        "<h2>Conversation</h2>",
    ]
    for m in data.messages:
        text = html.escape(m.text)
        if m.tool_calls:
            calls = ", ".join(html.escape(str(c.get("name", "?"))) for c in m.tool_calls
                              if isinstance(c, dict))
            text += f"<div class='meta'>tools: {calls}</div>" if calls else ""
        parts.append(f"<div class='msg {html.escape(m.role)}'>{text}</div>")
    parts.append("<h2>Artworks</h2>")
    for art, versions in data.artworks:
        parts.append(f"<div class='art' id='a{art.number}'><h3>#{art.number} · "
                     f"{html.escape(art.title)} <span class='meta'>({art.kind}, head "
                     f"v{art.head_number})</span></h3><div class='versions'>")
        for v in versions:
            parts.append(_version_html(v, art.head_number, local))
        parts.append("</div></div>")
    parts.append("</body></html>")
    index = dest / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index


def _version_html(v: VersionInfo, head: int | None, local) -> str:  # type: ignore[no-untyped-def]
    cls = "version head" if v.number == head else "version"
    origin = f"from v{v.parent_number}" if v.parent_number else "original"
    body = [f"<div class='{cls}'><b>v{v.number}</b> · {html.escape(v.operation)} · {origin}"]
    for role, path in v.files.items():
        href = html.escape(local(path))
        if role in ("png", "roll"):
            body.append(f"<div><img src='{href}' alt='#{v.artwork_number} v{v.number} {role}'>"
                        "</div>")
        elif role == "ogg":
            body.append(f"<audio controls src='{href}'></audio>")
        else:
            body.append(f"<div><a href='{href}'>{html.escape(role)} file</a></div>")
    recipe = html.escape(json.dumps(v.recipe, indent=1, sort_keys=True, default=str))
    body.append(f"<details><summary>recipe</summary><pre>{recipe}</pre></details></div>")
    return "".join(body)


def zip_export(folder: Path, zip_path: Path) -> Path:
    """The exported folder as one zip (what the Discord ``/export`` sends)."""
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder))
    return zip_path


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
