enum PlaceholderAccordServiceRuntimeTests {}
