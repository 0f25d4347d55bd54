cursor 16 4
for i in range(3):
    print(i, 'é' * i)
>>> for i in range(3):
...     print(i, 'é' * i)
... 
0 
1 é
2 éé
>>> [x ** 2 for x in range(25)]
[0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169, 196, 225, 256, 289, 324
, 361, 400, 441, 484, 529, 576]
>>> import sys; sys.maxsize
9223372036854775807
>>> 'abc'.upper(
... )
'ABC'
>>> 







