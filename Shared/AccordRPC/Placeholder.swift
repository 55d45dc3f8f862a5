enum PlaceholderAccordRPC {}
