"""One module per platform family: verify its webhooks and normalise them into SocialEvents."""
