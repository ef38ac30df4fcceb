"""The field (现场): what inspectors record on site and how it reaches the server.

Owns the inspector app's idempotent uploads (``sync``: on-site checks, patrol discoveries,
photos), contact cards (``contact_cards``), the photo pipeline and who may see a photo
(``photos``, ``photo_access``), the offline bootstrap (``bootstrap``) and the store that
keeps a record once whoever sends it first (``idempotent``).
"""
