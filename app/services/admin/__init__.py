"""Administration: accounts, audited configuration and operations.

Owns accounts and staff import (``accounts``, ``staff_import``), audited changes to routing,
deadlines, calendar and settings (``changes``, ``audit``), API keys, backups, personal-data
retention and export (``retention``, ``petitioner_export``), tamper evidence over every
hash chain (``integrity``: checkpoints, verification, sealing), and signing in: credentials,
password policy, throttling and session records (``auth``, ``passwords``, ``throttling``,
``sessions``).
"""
