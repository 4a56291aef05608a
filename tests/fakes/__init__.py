"""Stand-ins for the outside services Chatout talks to, run as real local servers so nothing in the app is mocked."""
