"""Transport to WeChat. The only package that imports wechaty (in ``wechaty.py``
and ``compat.py``); everything else talks to :class:`bot.puppet.port.ChatPort`."""
