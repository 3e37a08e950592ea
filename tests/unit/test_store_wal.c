/*
 * test_store_wal.c: the store does not keep a WAL file as large as its
 * largest transaction.
 *
 * A first run commits everything in one transaction, so the WAL grows to
 * about the database's size. SQLite never shrinks the file by itself; the
 * store sets journal_size_limit so that the first write after a complete
 * checkpoint cuts it back. Here a second connection (as a CLI command
 * would be) writes a transaction of LARGE_BYTES, its commit checkpoints,
 * and then the store writes a run row: the WAL file must be back under the
 * limit, while the store stays open (as a daemon's does). Without the
 * limit it stays at LARGE_BYTES and more.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "testutil.h"

#define LARGE_BYTES (40L << 20) /* one big transaction */
#define KEEP_BYTES  (4L << 20)  /* store.c's STORE_WAL_KEEP_TEXT */
#define BLOB_BYTES  (1L << 20)

static long
file_size(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Writes LARGE_BYTES in one transaction through a connection of its own. */
static int
big_write(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int ok = 0;

    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA busy_timeout = 5000; BEGIN; "
                     "CREATE TABLE IF NOT EXISTS filler (b BLOB);",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO filler VALUES (zeroblob(?))", -1, &s, NULL) !=
            SQLITE_OK)
        goto out;
    for (long n = 0; n < LARGE_BYTES; n += BLOB_BYTES) {
        if (sqlite3_bind_int64(s, 1, BLOB_BYTES) != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
            goto out;
        sqlite3_reset(s);
    }
    /* dropped again in the same transaction: only the WAL remembers it */
    ok = sqlite3_exec(db, "DROP TABLE filler; COMMIT;", NULL, NULL, NULL) == SQLITE_OK;
out:
    if (!ok)
        fprintf(stderr, "big_write: %s\n", db != NULL ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_finalize(s);
    sqlite3_close(db);
    return ok ? 0 : -1;
}

int
main(void)
{
    char dir[] = "/tmp/test_store_wal.XXXXXX", path[256], wal[300];
    struct store *st = NULL;
    struct err err = {0};
    int64_t run_id = 0;
    long before, after;

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/state.db", dir);
    snprintf(wal, sizeof(wal), "%s-wal", path);

    CHECK(store_open(path, &st, &err) == 0);
    if (st == NULL) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        return 1;
    }
    CHECK(big_write(path) == 0);
    before = file_size(wal);
    CHECK_MSG(before >= LARGE_BYTES, "WAL after the big transaction: %ld bytes", before);

    /* the store's next write restarts the log and cuts the file back */
    CHECK(store_run_begin(st, 1700000000, &run_id, &err) == 0);
    CHECK(run_id > 0);
    after = file_size(wal);
    CHECK_MSG(after >= 0 && after <= KEEP_BYTES, "WAL after the store's next write: %ld bytes",
              after);

    /* and the store's write is there, seen from another connection */
    {
        sqlite3 *db = NULL;
        sqlite3_stmt *s = NULL;

        CHECK(sqlite3_open(path, &db) == SQLITE_OK);
        CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM runs WHERE id = ?", -1, &s, NULL) ==
              SQLITE_OK);
        CHECK(sqlite3_bind_int64(s, 1, run_id) == SQLITE_OK);
        CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) == 1);
        sqlite3_finalize(s);
        sqlite3_close(db);
    }
    store_close(st);

    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", path);
    unlink(wal);
    unlink(path);
    rmdir(dir);
    TEST_END();
}
