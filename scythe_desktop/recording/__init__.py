"""Recordings (MCAP with embedded protobuf schemas): writer, reader, timeline index, live recording session,
headless simulation into a file and the replay player. Needs the message schemas, never Qt."""
