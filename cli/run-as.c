/* The unprivileged account an instance belongs to when root starts it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/run-as.h"
#include "common/buf.h"
#include "common/xalloc.h"

/* Where Debian (passwd) and most other systems keep useradd. */
static const char *const useradd_paths[] = { "/usr/sbin/useradd", "/sbin/useradd" };

/* Runs useradd for the dedicated account; its first line of output, if
 * any, goes to out.  The exit status as waitpid gives it, or -1. */
static int run_useradd(const char *useradd, const char *name, char *out,
		       size_t outlen)
{
	char *const argv[] = {
		(char *)useradd, "--system", "--user-group", "--no-create-home",
		"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
		"--comment", "maillab mail server", (char *)name, NULL,
	};
	int pipefd[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execv(useradd, argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (len + 1 < outlen &&
	       ((n = read(pipefd[0], out + len, outlen - len - 1)) > 0 ||
		(n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	close(pipefd[0]);
	out[len] = '\0';
	out[strcspn(out, "\n")] = '\0';
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return status;
}

/* Creates the system account `name`.  Another maillab may be creating it
 * at the same moment (useradd then fails on the lock or on the name), so
 * success is judged by whether the account exists afterwards. */
static int create_account(const char *name, char *err_r, size_t errlen)
{
	const char *useradd = NULL;
	char out[256] = "";

	for (size_t i = 0; i < sizeof(useradd_paths) / sizeof(useradd_paths[0]); i++) {
		if (access(useradd_paths[i], X_OK) == 0) {
			useradd = useradd_paths[i];
			break;
		}
	}
	if (useradd == NULL) {
		snprintf(err_r, errlen, "run_as: no user '%s' and no useradd to "
			 "create it; create the account or set run_as in maillab.conf",
			 name);
		return -1;
	}
	for (int attempt = 0; attempt < 5; attempt++) {
		int status = run_useradd(useradd, name, out, sizeof(out));

		if (getpwnam(name) != NULL)
			return 0;
		if (status == -1)
			snprintf(out, sizeof(out), "%s", strerror(errno));
		nanosleep(&(struct timespec){ 0, 200 * 1000 * 1000 }, NULL);
	}
	snprintf(err_r, errlen, "run_as: cannot create the system user '%s' "
		 "with %s: %s", name, useradd, out[0] != '\0' ? out : "failed");
	return -1;
}

/* The passwd entry of the user the instance runs as (see run-as.h). */
static struct passwd *resolve_user(const struct config *cfg, char *err_r,
				   size_t errlen)
{
	const char *name = cfg->run_as;
	struct passwd *pw;
	struct stat st;

	if (name == NULL || *name == '\0') {
		if (stat(cfg->dir, &st) < 0) {
			snprintf(err_r, errlen, "%s: %s", cfg->dir, strerror(errno));
			return NULL;
		}
		if ((pw = getpwuid(st.st_uid)) == NULL) {
			snprintf(err_r, errlen, "%s: owner %u has no passwd entry",
				 cfg->dir, (unsigned)st.st_uid);
			return NULL;
		}
	} else if ((pw = getpwnam(name)) == NULL) {
		if (strcmp(name, RUN_AS_ACCOUNT) != 0) {
			snprintf(err_r, errlen, "run_as: no user '%s'; refusing "
				 "to run as root", name);
			return NULL;
		}
		if (create_account(name, err_r, errlen) < 0 ||
		    (pw = getpwnam(name)) == NULL)
			return NULL;
	}
	if (pw->pw_uid == 0) {
		snprintf(err_r, errlen, "run_as: '%s' is root (%s); refusing to "
			 "run as root: name an unprivileged user in maillab.conf",
			 pw->pw_name, *cfg->run_as == '\0' ?
			 "the instance directory's owner" : "uid 0");
		return NULL;
	}
	return pw;
}

/* Where the hand-over goes, and the first error. */
struct hand_over {
	uid_t uid;
	gid_t gid;
	char *err;
	size_t errlen;
};

static int hand_over_fail(struct hand_over *h, const char *path,
			  const char *name, const char *what)
{
	snprintf(h->err, h->errlen, "%s/%s: %s", path, name, what);
	return -1;
}

static int hand_over_dir(struct hand_over *h, int dirfd, const char *path,
			 int depth);

/* One entry of the directory open as dirfd (named path, for messages).
 * Everything goes through descriptors opened with O_NOFOLLOW relative to
 * their parent, so an entry swapped for a symlink during the walk leads
 * nowhere outside the instance. */
static int hand_over_entry(struct hand_over *h, int dirfd, const char *path,
			   const char *name, int depth)
{
	struct stat st;
	int fd, ret = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return hand_over_fail(h, path, name, strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		if ((st.st_uid != h->uid || st.st_gid != h->gid) &&
		    fchownat(dirfd, name, h->uid, h->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return hand_over_fail(h, path, name, strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return 0;	/* sockets, fifos, devices are not ours to give */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
		    O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		ret = hand_over_fail(h, path, name, strerror(errno));
	else if (S_ISREG(st.st_mode) && st.st_nlink > 1 &&
		 (st.st_uid != h->uid || st.st_gid != h->gid))
		ret = hand_over_fail(h, path, name, "has several hard links; "
				     "not handing it to the run_as user (it may be "
				     "a file outside the instance)");
	else if ((st.st_uid != h->uid || st.st_gid != h->gid) &&
		 fchown(fd, h->uid, h->gid) < 0)
		ret = hand_over_fail(h, path, name, strerror(errno));
	else if (S_ISDIR(st.st_mode)) {
		struct buf sub = BUF_INIT(BUF_UNLIMITED);

		buf_printf(&sub, "%s/%s", path, name);
		ret = hand_over_dir(h, fd, buf_cstr(&sub), depth + 1);
		buf_free(&sub);
		fd = -1;	/* hand_over_dir closed it */
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Hands over everything in the directory open as fd, and closes fd. */
static int hand_over_dir(struct hand_over *h, int fd, const char *path,
			 int depth)
{
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (depth > 64) {
		close(fd);
		snprintf(h->err, h->errlen, "%s: nested too deep", path);
		return -1;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		snprintf(h->err, h->errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			ret = hand_over_entry(h, dirfd(d), path, de->d_name, depth);
	}
	closedir(d);
	return ret;
}

/* Refuses to move an instance from one unprivileged user to another: the
 * run_as user can edit maillab.conf, and must not be able to make root
 * give the instance (and the server) to some other account.  A root-owned
 * instance (just made by root) may go to anyone but root. */
static int check_current_owner(const char *dir, const struct passwd *pw,
			       char *err_r, size_t errlen)
{
	struct stat st;
	struct passwd *owner;

	if (stat(dir, &st) < 0) {
		snprintf(err_r, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (st.st_uid == 0 || st.st_uid == pw->pw_uid)
		return 0;
	owner = getpwuid(st.st_uid);
	snprintf(err_r, errlen, "%s belongs to %s, not to run_as user %s; "
		 "refusing to hand it over (chown -R it yourself if that is meant)",
		 dir, owner != NULL ? owner->pw_name : "another user", pw->pw_name);
	return -1;
}

int run_as_hand_over(struct config *cfg, char *err_r, size_t errlen)
{
	struct hand_over h = { .err = err_r, .errlen = errlen };
	struct passwd *pw;
	struct stat st;
	int fd;

	if (geteuid() != 0)
		return 0;
	if ((pw = resolve_user(cfg, err_r, errlen)) == NULL ||
	    check_current_owner(cfg->dir, pw, err_r, errlen) < 0)
		return -1;
	h.uid = pw->pw_uid;
	h.gid = pw->pw_gid;
	free(cfg->run_as);
	cfg->run_as = xstrdup(pw->pw_name);
	fd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 ||
	    ((st.st_uid != h.uid || st.st_gid != h.gid) &&
	     fchown(fd, h.uid, h.gid) < 0)) {
		snprintf(err_r, errlen, "%s: %s", cfg->dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return hand_over_dir(&h, fd, cfg->dir, 0);
}

int run_as_instance_owner(const char *dir, char *err_r, size_t errlen)
{
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (stat(dir, &st) < 0) {
		snprintf(err_r, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (st.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(st.st_gid) < 0 ||
	    setuid(st.st_uid) < 0) {
		snprintf(err_r, errlen, "cannot become %s's owner (uid %u): %s",
			 dir, (unsigned)st.st_uid, strerror(errno));
		return -1;
	}
	if (access(dir, R_OK | W_OK | X_OK) < 0) {
		snprintf(err_r, errlen, "%s: %s for its owner (uid %u), whom the "
			 "server runs as: its parent directories must be searchable",
			 dir, strerror(errno), (unsigned)st.st_uid);
		return -1;
	}
	return 0;
}
