"""The rules of Firstline, one package per wing of the business. No Flask request code lives here.

Ground floor, used by every wing: ``clock`` (the time every rule reads; Beijing dates),
``settings`` (the settings table), ``access`` (scope and role capability), ``paging``,
``spreadsheets``, ``seals`` (signed hash-chain heads).
Wings: ``cases``, ``field``, ``patrols``, ``wall``, ``campaign``, ``admin``, ``geo``, ``notify``; each
package's docstring says what it owns. Services import models and each other, never
``app.api``, ``app.web``, ``app.schemas`` or ``app.demo``.
"""
