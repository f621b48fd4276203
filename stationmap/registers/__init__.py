"""Union registers (台账) in and open data out.

Reading a sheet as the union keeps it (:mod:`.sheets`), naming its columns by one synonym table
(:mod:`.headers`), turning Chinese opening hours into OSM syntax (:mod:`.hours_zh`), planning
what an import would change (:mod:`.importing`, :mod:`.plan_report`), and exporting the
register for open data (:mod:`.exporting`). Everything here is a pure pipeline over tables:
applying a plan to the store of record is the store's job.
"""
