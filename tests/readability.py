"""Measurements of a page in the browser: text contrast, text size, tap targets, axe-core."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent.parent / "static" / "vendor" / "axe-core" / "axe.min.js"

#: Every visible element with text of its own: its text colour, the background it sits on
#: (backgrounds composed up the tree, over white), its font size, and how to find it.
TEXT_STYLES = """() => {
  const parse = c => { const m = c.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const over = (top, bottom) => { const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]); };
  function background(node) {
    const layers = [];
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    return layers.reverse().reduce((acc, c) => over(c, acc), [255, 255, 255, 1]);
  }
  const out = [];
  for (const node of document.querySelectorAll("body *")) {
    const own = [...node.childNodes].some(c => c.nodeType === 3 && c.textContent.trim());
    if (!own) continue;
    const style = getComputedStyle(node);
    const box = node.getBoundingClientRect();
    if (style.visibility !== "visible" || box.width === 0 || box.height === 0) continue;
    if (node.closest("[hidden], script, style")) continue;
    if (node.closest("details:not([open])") && !node.closest("summary")) continue;
    const bg = background(node);
    out.push({ text: node.textContent.trim().slice(0, 40), tag: node.tagName + "." + node.className,
               colour: over(parse(style.color), bg), background: bg, size: parseFloat(style.fontSize) });
  }
  return out;
}"""

#: Everything a finger taps, with its size (a checkbox's or radio's label is its target; links
#: inside a sentence, as in the map's attribution, are WCAG 2.5.8's inline exception).
TAP_TARGETS = """() => [...document.querySelectorAll(
    "a[href], button, select, summary, label:has(input), .leaflet-marker-icon, " +
    "input:not([type=checkbox]):not([type=radio])")]
  .filter(n => { const b = n.getBoundingClientRect(); return b.width > 0 && b.height > 0 &&
                 getComputedStyle(n).visibility === "visible" && !n.closest(".leaflet-control-attribution"); })
  .map(n => { const b = n.getBoundingClientRect();
              return { what: n.tagName + "." + n.className + " " + (n.textContent || "").trim().slice(0, 30),
                       width: b.width, height: b.height }; })"""


def luminance(rgb) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0-255 channels)."""
    def channel(v):
        v = v / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations of ``impacts`` on the page as it is now (WCAG 2 A and AA rules)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""() => axe.run(document, {
        runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})""")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in impacts]
