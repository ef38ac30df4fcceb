"""The field (现场): what inspectors record on site, how it reaches the server, and how the
desk sees it.

Owns the inspector app's idempotent uploads (``sync``: on-site checks, patrol discoveries,
photos and their originals), the one rule for an on-site check (``onsite_rules``: distance,
accuracy, completeness, whether it counts, acceptance of a flagged check), on-site checks
recorded at the desk (``desk_checks``), the evidence as the desk shows it (``evidence``),
contact cards (``contact_cards``), the photo pipeline and who may see a photo (``photos``,
``photo_access``), the offline bootstrap (``bootstrap``) and the store that keeps a record
once whoever sends it first (``idempotent``).
"""
