"""Grid patrols (网格巡查) and the source register (监管对象台账).

Owns the register and its spreadsheet import (``sources``, ``source_import``), the one due
rule for patrols (``rules``), patrols and check-ins from the phone (``rounds``) and patrol
compliance per village, town and person (``compliance``).
"""
