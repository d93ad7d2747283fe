"""One repository per collection: the only code that talks to the driver."""
