"""Notifications (消息): telling people the moment work is theirs.

Owns the outbox (``outbox.notify``: the one function every event calls; it writes the in-app
message and queues the SMS and group-robot deliveries), the channels (``channels``: SMS
providers behind one interface, 企业微信 and 钉钉 group robots), sending with retries and the
daily digest (``delivery``, run by the worker), and who wants what (``preferences``).
Messages carry case numbers, kinds and deadlines, never a petitioner's personal data.
"""
