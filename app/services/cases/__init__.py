"""Cases (案件): everything that happens to one petition from 登记 to 销号.

Owns intake and registration (``intake``), the lifecycle state machine (``lifecycle``: every
transition goes through ``take``), deadlines and their clocks (``deadlines``,
``deadline_defaults``) over the working-day calendar (``workcalendar``), the hash-chained
timeline (``timeline``), case numbers (``numbering``), repeat petitions and reopening
(``repeats``), routing to departments (``departments``), attachments, who is told of each
step (``announcements``, through ``notify``) and reading one's messages (``notifications``),
petitioner privacy (``privacy``: the one place that masks), and reading cases
(``queries``, ``records``).
"""
