"""The campaign (专项行动 / 百日攻坚): the rules the command office steers by.

Owns phases and town submissions (``phases``), grid scoring (``scoring``), first-line
measures (``first_line``), accountability lists (``accountability``), receptions
(``receptions``), special checks (``special_checks``), early warning (``early_warning``),
exports (``exports``), reporting periods (``periods``) and the Open311 GeoReport v2 front
(``open311``).
"""
