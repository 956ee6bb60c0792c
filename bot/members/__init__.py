"""Members (委员): roster import, invitation codes and binding chat identities."""
