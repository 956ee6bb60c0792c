"""Lvzhi (履职助手): member-services assistant for CPPCC committee offices."""
