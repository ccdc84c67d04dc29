"""Plain-text reports read from the marts (demo and analysts' quick looks)."""
