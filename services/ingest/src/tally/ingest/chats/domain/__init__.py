"""Pure logic of the chat events consumer: which events of a fetch may be applied now."""
