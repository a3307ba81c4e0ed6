from songscape.cli import main

main()
