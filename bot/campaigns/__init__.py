"""Campaigns (征集活动): calls for opinions, broadcasts, theme clustering of answers, reports."""
