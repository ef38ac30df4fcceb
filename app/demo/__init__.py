"""The demo city: tooling that builds a synthetic county-level city for demos, tests and benchmarks.

``flask demo seed`` (app/cli/demo.py) fills an empty database with grids, departments, a
login of every role, N cases with their handling history, a source register and a month of
patrols, all from one seed. It is not a rule of the domain: nothing under app/services
imports it. It reads the rules it follows (vocabularies, default time limits, the lifecycle's
transitions) from app/models and app/services rather than restating them.

Modules, each importing only those above it:

- ``tables``: the fixed tables (the city's size, name lists, shares and weights, the chain).
- ``bulk_load``: rows straight to the driver, ids assigned here, indexes rebuilt once.
- ``geography``: the boundary, towns, villages and industrial parks as grid polygons.
- ``people``: the demo logins, and synthetic names, mobile and ID numbers.
- ``handling``: the clocks, timeline and handling records of generated cases.
- ``cases``: drawing and writing the cases.
- ``sources``: the source register and the campaign's patrols at levels 3 and 2.
- ``seed``: ``seed_demo_city``, which runs it all.
"""
