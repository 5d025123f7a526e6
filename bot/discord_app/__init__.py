"""The Discord adapter: ``/news`` application commands, mentions and replies on Discord.

``client`` (NewsBot, the command tree's error handling), ``news_cog`` (the commands and the
mention listener), ``embeds`` (Reply → embeds within Discord's limits: every limit lives
there), ``views`` (Previous / Next and "did you mean" buttons), ``translator`` (Japanese
command names), ``errors`` (apologies and logging), ``runner`` (``technyan-bot run`` and
``sync``). Nothing here ranks, filters or phrases: the core decides, the persona speaks.
"""
