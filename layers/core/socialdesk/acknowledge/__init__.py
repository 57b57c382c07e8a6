"""Automatic messages to the customer on the platform: an acknowledgement, or the answer to a recognised question.

`policy` decides (pure: the event, its classification, the rules, a calendar and the time); `ports` names what process
hands the decision to (the outbound queue) and asks about our own sends (so an echo of one is never a customer's or an
agent's message). The outbound function sends the job; process only queues it, once per conversation per window.
"""
