"""The shop's own settings: checking and storing them, working hours, and the website plugin's set-up."""
