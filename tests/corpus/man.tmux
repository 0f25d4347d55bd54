cursor 23 58
       [1m-c[0m[39m[49m     with [1m-lt[0m[39m[49m: [7msort[0m[39m[49m by, and show, ctime (time of last modification of
              file status information); with [1m-l[0m[39m[49m: show ctime and [7msort[0m[39m[49m by  name;
              otherwise: [7msort[0m[39m[49m by ctime, newest first

       [1m-C[0m[39m[49m     list entries by columns

       [1m--color[0m[39m[49m[=[4mWHEN[0m[39m[49m]
              color the output WHEN; more info below

       [1m-d[0m[39m[49m, [1m--directory
[0m[39m[49m              list directories themselves, not their contents

       [1m-D[0m[39m[49m, [1m--dired
[0m[39m[49m              generate output designed for Emacs' dired mode

       [1m-f[0m[39m[49m     list all entries in directory order

       [1m-F[0m[39m[49m, [1m--classify[0m[39m[49m[=[4mWHEN[0m[39m[49m]
              append indicator (one of */=>@|) to entries WHEN

       [1m--file-type
[0m[39m[49m              likewise, except do not append '*'

[7m Manual page ls(1) line 36 (press h for help or q to quit)
