"""Collaboration: rooms, their members and the messages posted in them.

The foundation of real-time collaboration: every change is appended to the event log on the
room's topic (`room:<room id>`), which only members may stream, so a message reaches every
member's open connection on any instance. Threads, reactions, presence, files and shared
documents build on these rooms.
"""
