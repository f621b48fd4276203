"""Maps stationmap draws: Folium HTML (:mod:`.html`), PNG/SVG pictures (:mod:`.picture`, drawn
in a local projection with its scale bar, :mod:`.projection`, and a font that has every
character, :mod:`.fonts`), the compact station rows of embedded maps (:mod:`.station_rows`),
base-map tiles (:mod:`.tiles`) and the colours they all share (:mod:`.style`). Nothing here
knows about HTTP.
"""
