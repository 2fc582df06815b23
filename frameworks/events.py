"""Signals that tell higher layers (reporting) that source rows changed.

frameworks may not import reporting, so services announce changes here and
reporting listens. Receivers run inside the sender's transaction, so anything they
record (dirty rollup keys) commits or rolls back with the change itself.
"""

from django.dispatch import Signal

# Sent with team_id (int) whenever a write changes a team's framework, programmes
# or joint work, and with years (a tuple of ints) when the write touched only
# figures of those years (a contribution, a measurement); no years: anything of
# the team may have changed. With years, indicators (a frozenset of ids, or None
# for any) are the only indicators whose values the write may have changed.
team_data_changed = Signal()
