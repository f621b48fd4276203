"""The font every picture draws Chinese with (map pictures, posters), and the check that it can.

Chinese needs a CJK font. :func:`cjk_font` takes Noto Sans SC, vendored in ``static/vendor``
from the npm registry (SIL Open Font Licence), so a picture looks the same on every machine;
failing that, a system CJK font such as Debian's ``fonts-noto-cjk``; and it refuses to draw
rather than draw empty boxes. :func:`check_glyphs` checks every text against the font's
character map first. matplotlib is imported only when a font is asked for.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from collections.abc import Iterable

from .._paths import shipped
from ..errors import InputError

#: Fonts tried on the system, Simplified Chinese first.
SYSTEM_CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
                       "WenQuanYi Micro Hei", "Droid Sans Fallback")
#: The vendored font files, regular first (static/vendor, SIL Open Font Licence; scripts/vendor_assets.sh).
PACKAGED_CJK_FONT = ("vendor/@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf",
                     "vendor/@expo-google-fonts/noto-sans-sc/700Bold/NotoSansSC_700Bold.ttf")
#: matplotlib's rcParams and font list are process-global: whoever changes or draws with them holds this.
LOCK = threading.RLock()


def cjk_font(*, system: bool = True, packaged: bool = True) -> tuple[str, str]:
    """The family name and file of a font that draws Chinese: the vendored one, else the system's.

    Raises :class:`RuntimeError` when neither is there: a picture with empty boxes for every
    Chinese character is worse than none.
    """
    from matplotlib import font_manager

    if packaged:
        try:
            files = [shipped("static") / name for name in PACKAGED_CJK_FONT]
        except FileNotFoundError:
            files = []
        if files and all(path.is_file() for path in files):
            return _register(tuple(str(path) for path in files))
    if system:
        for family in SYSTEM_CJK_FAMILIES:
            try:
                path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
            except ValueError:
                continue
            return family, str(path)
    raise RuntimeError("no font that can draw Chinese was found: reinstall stationmap (it ships Noto Sans SC "
                       "in static/vendor) or install Debian's fonts-noto-cjk")


@functools.cache
def _register(files: tuple[str, ...]) -> tuple[str, str]:
    """Add font files to matplotlib once per process (each addfont grows its font list and
    clears its lookup cache); the family name and the first file.
    """
    from matplotlib import font_manager

    with LOCK:
        for path in files:                  # the bold face draws titles
            font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=files[0]).get_name(), files[0]


def check_glyphs(texts: dict[str, Iterable[str]], family: str) -> None:
    """Refuse text the font cannot draw (it would come out as empty boxes), naming the field."""
    from matplotlib import font_manager

    charmap = font_manager.get_font(font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False)).get_charmap()
    for field, values in texts.items():
        for text in values:
            control = sorted({f"U+{ord(ch):04X}" for ch in str(text)
                              if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")})
            if control:
                raise InputError(f"{text!r} has control or invisible characters: {' '.join(control)}", field=field)
            missing = sorted({ch for ch in str(text) if ch != " " and ord(ch) not in charmap})
            if missing:
                raise InputError(f"{text!r} has characters the map's font cannot draw: "
                                 f"{' '.join(missing)}", field=field)
