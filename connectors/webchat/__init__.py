"""Web chat: an embeddable widget and the visitor WebSocket."""
