# V=1 shows full commands.
ifneq ($(V),1)
QUIET_CC = @echo '   CC' $@;
QUIET_AR = @echo '   AR' $@;
QUIET_LINK = @echo ' LINK' $@;
endif
