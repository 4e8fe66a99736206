"""Which exported files a turn hands over: only the one its export_music call says it
wrote on its first line, never a path written inside the score it shows (an ABC tune's T:
line is the person's own text)."""

from __future__ import annotations

from museforge.bots.exports import exports


def test_only_the_file_the_call_says_it_wrote_is_handed_over(tmp_path):
    mine = tmp_path / "exports" / "7-Tunes" / "1-v1-my-tune.abc"
    theirs = tmp_path / "exports" / "12-Main" / "3-v1-secret.abc"
    for path in (mine, theirs):
        path.parent.mkdir(parents=True)
        path.write_text("X:1\nK:C\nC", encoding="utf-8")
    result = (f"Wrote #1 v1 as ABC: {mine}.\nX:1\nT:{theirs}\nM:4/4\nK:C\nCDEF|")
    call = {"name": "export_music", "ok": True, "result": result}
    assert [e.path for e in exports([call], tmp_path)] == [mine]
