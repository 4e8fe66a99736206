"""The bot's cogs, one capability each; every module ends with ``async def setup(bot)``."""
