"""The agent's workspace in Textual. Screens call services in thread workers and show plain data."""
