"""Staff: accounts, what each role may do, and the staff side of a customer's WhatsApp conversation."""
