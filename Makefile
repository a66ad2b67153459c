# maillab: one binary, three servers.  `make run` starts the suite, `make check`
# runs every test.  Both first run `deps`, which installs what a fresh Debian 12
# lacks.  `make check SAN=1` builds with ASan + UBSan into build-san/.

CC      ?= cc
SAN     ?=
PKGS    := openssl libevent libevent_openssl libcrypt zlib

ifeq ($(FUZZ),1)
B       := build-fuzz
CC      := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
OPT     := -O1
else ifeq ($(SAN),1)
B       := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1
else
B       := build
SANFLAGS :=
OPT     := -O2
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral
CFLAGS  := -std=gnu11 $(OPT) -g $(WARN) $(SANFLAGS) -D_GNU_SOURCE -I. \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS := $(SANFLAGS)
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldb -lresolv -lpthread
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

# Every module directory is compiled into one library that the binary, the
# unit tests and the benchmarks link; new files need no Makefile edit.
LIB_SRCS  := $(wildcard common/*.c maildir/*.c smtpd/*.c pop3d/*.c imapd/*.c cli/*.c labs/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/%.o)
TEST_SRCS := $(wildcard tests/unit/test-*.c)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(B)/tests/%)
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(B)/bench/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz-*.c)

# `make install` (PREFIX, DESTDIR as usual): the binary, the man page
# maillab(8), the systemd unit and the sysusers.d entry for its account.
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d

.PHONY: all deps run check unit system bench fuzz fuzz-bins clean install uninstall interop
.PRECIOUS: $(B)/%.o
all: maillab

maillab: $(B)/maillab
	@ln -sf $(B)/maillab maillab

$(B)/maillab: $(B)/main.o $(B)/libmaillab.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/libmaillab.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/%: $(B)/tests/unit/%.o $(B)/tests/unit/unit.o $(B)/libmaillab.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

# The fuzz corpora replay (tests/unit/test-fuzz-replay.c) links every
# tests/fuzz/fuzz-NAME.c, compiled once more with its entry point renamed
# fuzz_replay_NAME so that they fit in one binary.
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/fuzz-%.c=%)
FUZZ_REPLAY_OBJS := $(FUZZ_NAMES:%=$(B)/tests/fuzz/replay-%.o)
$(B)/tests/fuzz/replay-%.o: tests/fuzz/fuzz-%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DFUZZ_REPLAY \
		-DLLVMFuzzerTestOneInput=fuzz_replay_$(subst -,_,$*) -MMD -MP -c -o $@ $<
$(B)/tests/test-fuzz-replay: $(B)/tests/unit/test-fuzz-replay.o $(FUZZ_REPLAY_OBJS) \
		$(B)/tests/unit/unit.o $(B)/libmaillab.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

$(B)/bench/%: $(B)/bench/%.o $(B)/libmaillab.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

deps:
	@sh tests/deps.sh

run: deps
	@$(MAKE) --no-print-directory maillab
	./maillab serve

unit: $(TEST_BINS)
check: deps
	@$(MAKE) -j$$(nproc) --no-print-directory maillab $(TEST_BINS) $(BENCH_BINS)
	@sh tests/run-all.sh $(B)

bench: deps
	@$(MAKE) --no-print-directory maillab $(BENCH_BINS)
	@sh bench/run.sh $(B)

# Dovecot's imaptest (tests/interop/, its tarball is kept there) against a
# fresh instance: PASS/FAIL/SKIP per scripted test group.  Not part of check.
IMAPTEST := build-interop/imaptest/src/imaptest
interop: deps
	@sh tests/interop/deps.sh
	@$(MAKE) --no-print-directory maillab
	@[ -x $(IMAPTEST) ] || bash tests/interop/build.sh build-interop
	python3 tests/interop/run.py --binary $(B)/maillab --imaptest $(IMAPTEST)

# libFuzzer targets (clang): `make fuzz` builds build-fuzz/fuzz/NAME for each
# tests/fuzz/fuzz-NAME.c; `make check` replays their corpora instead.
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/fuzz/%)
fuzz:
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-bins
fuzz-bins: $(FUZZ_BINS)
build-fuzz/fuzz/%: build-fuzz/tests/fuzz/%.o build-fuzz/libmaillab.a
	@mkdir -p $(dir $@)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

install: maillab
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 0755 $(B)/maillab $(DESTDIR)$(SBINDIR)/maillab
	install -m 0644 dist/maillab.8 $(DESTDIR)$(MANDIR)/man8/maillab.8
	sed 's|@SBINDIR@|$(SBINDIR)|g' dist/maillab.service \
		>$(DESTDIR)$(UNITDIR)/maillab.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/maillab.service
	install -m 0644 dist/maillab.sysusers $(DESTDIR)$(SYSUSERSDIR)/maillab.conf

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/maillab $(DESTDIR)$(MANDIR)/man8/maillab.8 \
		$(DESTDIR)$(UNITDIR)/maillab.service \
		$(DESTDIR)$(SYSUSERSDIR)/maillab.conf

clean:
	rm -rf build build-san build-fuzz build-interop maillab

-include $(LIB_OBJS:.o=.d) $(B)/main.d $(TEST_BINS:$(B)/tests/%=$(B)/tests/unit/%.d) \
	$(FUZZ_REPLAY_OBJS:.o=.d) $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/tests/fuzz/%.d)
