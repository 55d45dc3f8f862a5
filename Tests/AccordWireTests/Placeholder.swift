enum PlaceholderAccordWireTests {}
