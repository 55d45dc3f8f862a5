enum PlaceholderAccordServiceRuntime {}
