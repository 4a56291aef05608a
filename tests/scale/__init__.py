"""Scale-out tests: several real web instances and queue workers sharing PostgreSQL and Redis."""
