"""The aiogram side of the gateway: the dispatcher, its routers, middlewares and delivery."""
