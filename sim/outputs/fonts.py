"""A font with Chinese glyphs for figures in Chinese (``lang="zh"``), found even when it was
installed after matplotlib listed the system's fonts; the hint to print when there is none."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib import font_manager

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
    "AR PL UMing CN",
)
CJK_HINT = (
    "no Chinese (CJK) font found on this machine, so Chinese labels show as boxes: install one, "
    "e.g. `sudo apt-get install fonts-noto-cjk` on Debian/Ubuntu (or fonts-wqy-zenhei), and run the "
    "command again (installed fonts are found without further steps)"
)


def cjk_font(names: Sequence[str] = CJK_FONTS) -> str | None:
    """The name of an installed font that has Chinese glyphs, or None.

    matplotlib lists the system's fonts once, in a cache; a font installed after that (e.g.
    fonts-noto-cjk after the first run) is not in it. When none of ``names`` is listed, the
    system's font folders are scanned once more and the fonts the list lacks are added to it."""
    manager = font_manager.fontManager
    found = next((name for name in names if name in {f.name for f in manager.ttflist}), None)
    if found is None:
        known = {f.fname for f in manager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    manager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # a file the font library cannot read
                    continue
        found = next((name for name in names if name in {f.name for f in manager.ttflist}), None)
    return found
