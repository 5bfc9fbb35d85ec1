"""One module per action: the business decision of that action, free of HTTP."""
