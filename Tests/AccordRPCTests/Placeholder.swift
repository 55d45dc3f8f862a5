enum PlaceholderAccordRPCTests {}
