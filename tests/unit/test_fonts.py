"""Chinese labels need a CJK font; matplotlib lists fonts once, in a cache, so a font installed
after the first run must be found by scanning the system's font folders again."""

import warnings

import pytest
from matplotlib import font_manager

from sim.outputs.fonts import cjk_font


def test_a_font_missing_from_matplotlibs_cached_list_is_found_by_a_rescan(monkeypatch):
    manager = font_manager.fontManager
    system = set(font_manager.findSystemFonts())
    listed = [f for f in manager.ttflist if f.fname in system]
    if not listed:
        pytest.skip("this machine has no system fonts to take out of the list")
    gone = listed[0]
    # the list as a cache built before the font was installed
    monkeypatch.setattr(manager, "ttflist", [f for f in manager.ttflist if f.name != gone.name])
    assert gone.name not in {f.name for f in manager.ttflist}
    assert cjk_font(names=("No Such Font", gone.name)) == gone.name
    assert gone.fname in {f.fname for f in manager.ttflist}


def test_no_font_of_the_names_gives_none(monkeypatch):
    assert cjk_font(names=("No Such Font At All",)) is None


def test_chinese_text_draws_without_missing_glyphs_when_a_cjk_font_exists():
    import matplotlib.pyplot as plt

    font = cjk_font()
    if font is None:
        pytest.skip("no CJK font on this machine (fonts-noto-cjk is not installed)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" would fail the test
        with plt.rc_context({"font.family": [font, "DejaVu Sans"]}):
            fig, ax = plt.subplots()
            ax.set_title("低压小微企业（三零）达标率")
            fig.canvas.draw()
        plt.close(fig)
